"""The fault suite's checker: once the system is quiet (``wait_quiet``), compares what the
load's operations asked for with what every service's tables hold (``check``).

Two layers. Each operation's own writes, found by what identifies them even when the call
raised (an ID number, a USCC, a veteran and posting, ...); and every event in every outbox
(the outbox keeps published rows, so it lists every event the system decided on), against
the effects each consumer must have made of it exactly once. "Exactly once" per effect,
from the code (services/*/store.py, reactions, handlers, migrations):

| cause | effect (table) | exactly once means |
|---|---|---|
| register / each created bulk row | registry.veterans | one row with the ID number |
| | registry.audit_log `register_veteran` | one row for the card |
| | registry.outbox `veteran_registered` | one event for the veteran |
| enterprise | registry.enterprises, enterprise_founders | one row with the USCC; one per founder asked for |
| | registry.outbox `enterprise_registered` | one event for the enterprise |
| | registry.outbox `employment_status_changed` | one per founder with `cause_event_id` = that event (founders were unemployed) |
| hire: apply | jobs.applications, application_history | one row (veteran, posting); one `submitted` line |
| | jobs.outbox `application_submitted` | one for the application |
| hire: offer | jobs.application_history | one `offered` line |
| hire: hire | jobs.hires, application_history | one row for the application; one `hired` line; status hired |
| | jobs.outbox `veteran_hired` | one for the application |
| training: enroll | training.enrollments; outbox `enrolled` | one row (cohort, veteran); one event |
| training: result | training.certificates; outbox `training_completed`, `certificate_issued` | one certificate for the enrollment; one event each; enrollment completed |
| loan: apply | loans.loans, loan_history `submitted`; outbox `loan_applied` | one loan for the veteran and product; one line; one event |
| | loans.eligibility_assessments with no cause | two (the application's check, the re-assessment after it) |
| | loans.outbox `loan_eligibility_assessed` with no cause | one (eligible → not: the loan is active) |
| loan: approve | loan_history `approved`; outbox `loan_approved` | one each |
| loan: disburse | loan_history `active`; loans.instalments; outbox `loan_disbursed` | one; `term_months` instalments; one |
| event `veteran_registered` | loans/jobs/training/followup `veterans` | the projection row (primary key: once at most) |
| | loans.eligibility_assessments `cause_event_id` | one per product |
| | loans.outbox `loan_eligibility_assessed` `cause_event_id` | one per product (a first assessment is always news) |
| event `veteran_updated` | loans.eligibility_assessments `cause_event_id` | one per product (announced only if the answer changed: not counted) |
| event `employment_status_changed` | followup.status_changes | one (veteran, event) |
| event `enterprise_registered` | loans.enterprises, followup.enterprises | the projection row |
| | loans.eligibility_assessments | one per founder and product with that cause |
| | followup.revisits `business` | one per founder and day of the business plan (cause = the event) |
| | training.placements `enterprise` | one per founder (veteran, event) |
| event `veteran_hired` | registry.veteran_history `employment_status` | one with that `cause_event_id` |
| | followup.revisits `employment`; followup.hires | one per day of the employment plan; one (veteran, event) |
| | training.placements `hired` | one (veteran, event) |
| event `certificate_issued` | registry.veteran_history `certificates`; jobs.veterans | one with that cause; the certificate in the projection |
| event `loan_disbursed` | followup.revisits `business` | one per day of the business plan |
| every event registry puts on a timeline (registry's own, and every other service's that names a veteran or enterprise) | registry.timeline | one row per (event, veteran / founder) and per (event, enterprise) |
| every revisit | followup.outbox `revisit_scheduled` | one for the revisit |

A timeline row, an assessment or a revisit beyond what the events account for is
*duplicated* when it repeats a subject and type that has one already (what a re-emitted
event would add), else *unexpected*; a card, booklet, application, enrollment or loan that
no operation asked for is *unexpected*. Lost: an expected effect missing (counted per
missing effect). For an operation that raised, the stage that raised must have all its
effects or none (partly: *unexpected*), earlier stages were acknowledged (missing: lost)
and later ones were never sent (present: unexpected). Problems name internal ids only.
"""

import collections
import hashlib
import json
import time
import urllib.parse
import urllib.request
from base64 import b64encode

import psycopg2
import psycopg2.extras

from shared.clock import bureau_clock

SCHEMAS = ("registry", "loans", "jobs", "training", "followup")
MAX_PROBLEMS = 50
CERTIFICATE_FIELD = "certificates"
# registry puts these (source, type) on the card's / booklet's timeline (shared/contracts/summaries.py).
TIMELINE_TYPES = {
    "registry": {
        "veteran_registered",
        "veteran_updated",
        "employment_status_changed",
        "enterprise_registered",
        "enterprise_updated",
    },
    "jobs": {"application_submitted", "veteran_hired"},
    "loans": {
        "loan_eligibility_assessed",
        "loan_applied",
        "loan_approved",
        "loan_rejected",
        "loan_disbursed",
        "loan_closed",
        "subsidy_granted",
    },
    "training": {"enrolled", "training_completed", "certificate_issued"},
    "followup": {"revisit_scheduled", "revisit_completed", "issue_escalated", "contact_recorded"},
}


# -- waiting for quiet -------------------------------------------------------------------
def outbox_backlog(conn):
    """{schema: unpublished outbox rows} for every service schema that has an outbox."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT table_schema FROM information_schema.tables"
            " WHERE table_name = 'outbox' AND table_schema = ANY(%s)",
            (list(SCHEMAS),),
        )
        schemas = sorted(row[0] for row in cur.fetchall())
        out = {}
        for schema in schemas:
            cur.execute(f'SELECT count(*) FROM "{schema}".outbox WHERE published_at IS NULL')
            out[schema] = cur.fetchone()[0]
    return out


def queues(management_url, auth, vhost="/"):
    """[{name, messages_ready, messages_unacknowledged}] of the vhost's queues."""
    url = (
        management_url.rstrip("/")
        + "/api/queues/"
        + urllib.parse.quote(vhost, safe="")
        + "?columns=name,messages_ready,messages_unacknowledged"
    )
    request = urllib.request.Request(
        url,
        headers={"Authorization": "Basic " + b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


# A client's reply queue (nameko's ``rpc.reply-<proxy>-<uuid>``) holds a reply that came
# after its client gave up (RpcTimeout) and dropped the proxy: the work was done and is
# checked like any other; the queue expires by itself (x-expires).
REPLY_QUEUE_PREFIX = "rpc.reply-"


def busy_queues(rows):
    """{name: ready + unacked} of the queues that hold work (dead-letter queues and
    clients' reply queues aside)."""
    out = {}
    for row in rows:
        depth = (row.get("messages_ready") or 0) + (row.get("messages_unacknowledged") or 0)
        if (
            depth
            and not row["name"].endswith(".dlq")
            and not row["name"].startswith(REPLY_QUEUE_PREFIX)
        ):
            out[row["name"]] = depth
    return out


def late_replies(rows):
    """Replies waiting in reply queues nobody consumes any more."""
    return sum(
        (row.get("messages_ready") or 0)
        for row in rows
        if row["name"].startswith(REPLY_QUEUE_PREFIX)
    )


def dead_letters(rows):
    return {
        row["name"]: (row.get("messages_ready") or 0) + (row.get("messages_unacknowledged") or 0)
        for row in rows
        if row["name"].endswith(".dlq")
    }


def wait_quiet(database_url, management_url, auth, *, vhost="/", timeout=300.0, quiet_for=5.0):
    """True once every outbox is empty of unpublished rows and every queue of the vhost
    but the dead-letter ones holds nothing ready or unacked, continuously for
    ``quiet_for`` seconds; False after ``timeout``. A server that does not answer is not
    quiet."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while True:
        try:
            conn = psycopg2.connect(database_url, connect_timeout=5)
            try:
                backlog = sum(outbox_backlog(conn).values())
            finally:
                conn.close()
            busy = busy_queues(queues(management_url, auth, vhost))
            quiet = backlog == 0 and not busy
        except Exception:  # a server still down or restarting: not quiet yet
            quiet = False
        moment = time.monotonic()
        if quiet:
            quiet_since = quiet_since if quiet_since is not None else moment
            if moment - quiet_since >= quiet_for:
                return True
        else:
            quiet_since = None
        if moment > deadline:
            return False
        time.sleep(0.5)


# -- the report --------------------------------------------------------------------------
class Report:
    def __init__(self):
        self.counts = collections.Counter()
        self.problems = []

    def add(self, kind, text, n=1):
        if n <= 0:
            return
        self.counts[kind] += n
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{kind}: {text}" + (f" x{n}" if n > 1 else ""))


def fingerprint(id_number):
    """Names a card by a hash of its ID number (never the number)."""
    return "idn-" + hashlib.sha256(id_number.encode()).hexdigest()[:12]


class Expectation:
    """The effects one stage of an operation should have: (label, found, wanted)."""

    def __init__(self, stage):
        self.stage, self.items = stage, []

    def want(self, label, found, wanted=1):
        self.items.append((label, found, wanted))

    def complete(self):
        return all(found >= wanted for _, found, wanted in self.items)

    def absent(self):
        return all(found == 0 for _, found, _ in self.items)


def judge(report, op_name, stages, acknowledged, failed=None):
    """Counts an operation's findings. ``stages``: [Expectation] in order;
    ``acknowledged``: the stages the client saw answered; ``failed``: the one that raised."""
    for stage in stages:
        for label, found, wanted in stage.items:
            if found > wanted:
                report.add("duplicated", f"{label} for {op_name}", found - wanted)
        if stage.stage in acknowledged:
            for label, found, wanted in stage.items:
                if found < wanted:
                    report.add("lost", f"{label} for {op_name}", wanted - found)
        elif stage.stage == failed:
            if not stage.complete() and not stage.absent():
                missing = [label for label, found, wanted in stage.items if found < wanted]
                report.add(
                    "unexpected",
                    f"{op_name} raised at {stage.stage} but left only part"
                    f" of its effects (missing: {', '.join(missing)})",
                )
        elif not stage.absent():
            present = [label for label, found, _ in stage.items if found]
            report.add(
                "unexpected", f"{op_name} never sent {stage.stage} but has {', '.join(present)}"
            )


# -- what the database holds ---------------------------------------------------------------
def _rows(cur, sql, args=()):
    cur.execute(sql, args)
    return cur.fetchall()


class Snapshot:
    """Every table the checks read, loaded once (a chaos run is thousands of rows)."""

    def __init__(self, conn):
        cur = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        q = lambda sql, args=(): _rows(cur, sql, args)  # noqa: E731
        self.events = q(
            "SELECT 'registry' AS source, event_id::text, routing_key AS type, body->'data' AS data,"
            " created_at FROM registry.outbox UNION ALL"
            " SELECT 'loans', event_id::text, routing_key, body->'data', created_at FROM loans.outbox"
            " UNION ALL SELECT 'jobs', event_id::text, routing_key, body->'data', created_at"
            " FROM jobs.outbox UNION ALL SELECT 'training', event_id::text, routing_key,"
            " body->'data', created_at FROM training.outbox UNION ALL SELECT 'followup',"
            " event_id::text, routing_key, body->'data', created_at FROM followup.outbox"
        )
        self.backlog = outbox_backlog(conn)
        self.veterans = q(
            "SELECT id::text, id_number, employment_status, certificates,"
            " registered_at FROM registry.veterans"
        )
        self.audits = collections.Counter(
            r["entity_id"]
            for r in q("SELECT entity_id FROM registry.audit_log WHERE action = 'register_veteran'")
        )
        self.enterprises = q("SELECT id::text, uscc FROM registry.enterprises")
        self.founders = collections.Counter(
            (r["enterprise_id"], r["veteran_id"])
            for r in q(
                "SELECT enterprise_id::text, veteran_id::text FROM registry.enterprise_founders"
            )
        )
        self.timeline = q(
            "SELECT event_id::text, veteran_id::text, enterprise_id::text, type,"
            " at FROM registry.timeline"
        )
        self.history = collections.Counter(
            (r["veteran_id"], r["field"], r["cause"])
            for r in q(
                "SELECT veteran_id::text, field, cause_event_id::text AS cause"
                " FROM registry.veteran_history"
            )
        )
        self.assessments = q(
            "SELECT veteran_id::text, product_code, cause_event_id::text AS"
            " cause, assessed_at FROM loans.eligibility_assessments"
        )
        self.projections = {
            schema: {
                r["vid"]: r for r in q(f"SELECT veteran_id::text AS vid, * FROM {schema}.veterans")
            }
            for schema in ("loans", "jobs", "training", "followup")
        }
        self.loan_enterprises = {
            r["enterprise_id"] for r in q("SELECT enterprise_id::text FROM loans.enterprises")
        }
        self.followup_enterprises = {
            r["enterprise_id"] for r in q("SELECT enterprise_id FROM followup.enterprises")
        }
        self.loans = q(
            "SELECT id::text, veteran_id::text, product_code, status, term_months FROM loans.loans"
        )
        self.loan_history = collections.Counter(
            (r["loan_id"], r["to_status"])
            for r in q("SELECT loan_id::text, to_status FROM loans.loan_history")
        )
        self.instalments = collections.Counter(
            r["loan_id"] for r in q("SELECT loan_id::text FROM loans.instalments")
        )
        self.applications = q(
            "SELECT id::text, veteran_id::text, posting_id::text, status FROM jobs.applications"
        )
        self.application_history = collections.Counter(
            (r["application_id"], r["to_status"])
            for r in q("SELECT application_id::text, to_status FROM jobs.application_history")
        )
        self.hires = collections.Counter(
            r["application_id"] for r in q("SELECT application_id::text FROM jobs.hires")
        )
        self.enrollments = q(
            "SELECT id::text, cohort_id::text, veteran_id::text, status FROM training.enrollments"
        )
        self.certificates = q(
            "SELECT id::text, enrollment_id::text, cert_no FROM training.certificates"
        )
        self.placements = collections.Counter(
            (r["veteran_id"], r["event_id"], r["kind"])
            for r in q("SELECT veteran_id::text, event_id::text, kind FROM training.placements")
        )
        self.revisits = q(
            "SELECT id::text, veteran_id::text, kind, cause_event_id::text AS cause,"
            " due_on, created_at FROM followup.revisits"
        )
        self.followup_hires = collections.Counter(
            (r["veteran_id"], r["event_id"])
            for r in q("SELECT veteran_id::text, event_id::text FROM followup.hires")
        )
        self.status_changes = collections.Counter(
            (r["veteran_id"], r["event_id"])
            for r in q("SELECT veteran_id::text, event_id::text FROM followup.status_changes")
        )
        self.received = [
            r["at"]
            for r in q(
                " UNION ALL ".join(
                    f"SELECT max(received_at) AS at FROM {schema}.inbox" for schema in SCHEMAS
                )
            )
        ]
        cur.close()
        self._index()

    def _index(self):
        self.by_id_number = collections.defaultdict(list)
        for v in self.veterans:
            self.by_id_number[v["id_number"]].append(v)
        self.veteran = {v["id"]: v for v in self.veterans}
        self.by_uscc = collections.defaultdict(list)
        for e in self.enterprises:
            self.by_uscc[e["uscc"]].append(e)
        self.events_by = collections.defaultdict(list)  # (source, type, field, value) → events
        for e in self.events:
            data = e["data"] or {}
            for name in (
                "veteran_id",
                "enterprise_id",
                "application_id",
                "enrollment_id",
                "loan_id",
                "cause_event_id",
                "revisit_id",
                "cert_no",
            ):
                if data.get(name) is not None:
                    self.events_by[(e["source"], e["type"], name, str(data[name]))].append(e)
        self.assessments_by = collections.Counter(
            (a["veteran_id"], a["product_code"], a["cause"]) for a in self.assessments
        )
        self.revisits_by = collections.defaultdict(list)
        for r in self.revisits:
            self.revisits_by[(r["cause"], r["veteran_id"], r["kind"])].append(r)
        self.apps_by = collections.defaultdict(list)
        for a in self.applications:
            self.apps_by[(a["veteran_id"], a["posting_id"])].append(a)
        self.enrollments_by = collections.defaultdict(list)
        for e in self.enrollments:
            self.enrollments_by[(e["cohort_id"], e["veteran_id"])].append(e)
        self.certificates_by = collections.defaultdict(list)
        for c in self.certificates:
            self.certificates_by[c["enrollment_id"]].append(c)
        self.loans_by = collections.defaultdict(list)
        for loan in self.loans:
            self.loans_by[(loan["veteran_id"], loan["product_code"])].append(loan)

    def find(self, source, event_type, name, value):
        return self.events_by.get((source, event_type, name, str(value)), [])

    def last_effect_at(self):
        moments = [e["created_at"] for e in self.events] + [m for m in self.received if m]
        moments += [a["assessed_at"] for a in self.assessments]
        moments += [r["created_at"] for r in self.revisits]
        return max(moments).timestamp() if moments else None


# -- per operation -------------------------------------------------------------------------
def _registration(snap, id_number, veteran_id=None):
    stage = Expectation("register")
    cards = snap.by_id_number.get(id_number, [])
    stage.want("card", len(cards))
    vid = veteran_id or (cards[0]["id"] if cards else None)
    stage.want("audit entry", snap.audits.get(vid, 0) if vid else 0)
    stage.want(
        "veteran_registered event",
        len(snap.find("registry", "veteran_registered", "veteran_id", vid)) if vid else 0,
    )
    return stage, vid


def _one_event(snap, stage, source, event_type, name, value, label=None):
    found = snap.find(source, event_type, name, value) if value else []
    stage.want(label or f"{event_type} event", len(found))
    return found[0]["event_id"] if found else None


def check_register(report, snap, op, claimed):
    claimed["id_numbers"].add(op.key)
    stage, vid = _registration(snap, op.key, op.detail.get("veteran_id"))
    name = f"register {vid or fingerprint(op.key)}"
    judge(report, name, [stage], _acked(op), _failed(op))


def check_bulk(report, snap, op, claimed):
    numbers = op.detail.get("id_numbers", [])
    claimed["id_numbers"].update(numbers)
    statuses = op.detail.get("statuses") or ["created"] * len(numbers)
    ids = op.detail.get("veteran_ids") or [None] * len(numbers)
    rows = [
        _registration(snap, number, vid)[0]
        for number, vid, status in zip(numbers, ids, statuses, strict=True)
        if status == "created"
    ]
    merged = Expectation("register")  # one transaction for the whole batch
    for index, stage in enumerate(rows):
        merged.items += [
            (f"row {index} {label}", found, wanted) for label, found, wanted in stage.items
        ]
    judge(report, f"register_bulk {op.key}", [merged], _acked(op), _failed(op))


def check_enterprise(report, snap, op, claimed):
    claimed["usccs"].add(op.key)
    stage = Expectation("register")
    booklets = snap.by_uscc.get(op.key, [])
    stage.want("booklet", len(booklets))
    eid = op.detail.get("enterprise_id") or (booklets[0]["id"] if booklets else None)
    founders = op.detail.get("founder_ids", [])
    for founder in founders:
        stage.want(f"founder {founder}", snap.founders.get((eid, founder), 0) if eid else 0)
    event = _one_event(snap, stage, "registry", "enterprise_registered", "enterprise_id", eid)
    for founder in founders:
        changes = [
            e
            for e in snap.find("registry", "employment_status_changed", "veteran_id", founder)
            if event and e["data"].get("cause_event_id") == event
        ]
        stage.want(f"status change of founder {founder}", len(changes))
    judge(report, f"enterprise {eid or op.key}", [stage], _acked(op), _failed(op))


def _acked(op):
    if op.ok:
        return list(op.detail.get("stages") or ["register"])
    return list(op.detail.get("stages") or [])


def _failed(op):
    return op.detail.get("failed_stage") if op.ok is False else None


def check_hire(report, snap, op, claimed):
    vid, pid = op.detail.get("veteran_id") or op.key, op.detail.get("posting_id")
    claimed["applicants"].add(vid)
    apps = snap.apps_by.get((vid, pid), [])
    aid = op.detail.get("application_id") or (apps[0]["id"] if apps else None)
    apply, offer, hire = Expectation("apply"), Expectation("offer"), Expectation("hire")
    apply.want("application", len(apps))
    apply.want("submitted line", snap.application_history.get((aid, "submitted"), 0))
    _one_event(snap, apply, "jobs", "application_submitted", "application_id", aid)
    offer.want("offered line", snap.application_history.get((aid, "offered"), 0))
    hire.want("hired line", snap.application_history.get((aid, "hired"), 0))
    hire.want("hire", snap.hires.get(aid, 0) if aid else 0)
    _one_event(snap, hire, "jobs", "veteran_hired", "application_id", aid)
    judge(report, f"hire of {vid} ({aid})", [apply, offer, hire], _acked(op), _failed(op))


def check_training(report, snap, op, claimed):
    vid, cohort = op.detail.get("veteran_id") or op.key, op.detail.get("cohort_id")
    claimed["trainees"].add(vid)
    rows = snap.enrollments_by.get((cohort, vid), [])
    eid = op.detail.get("enrollment_id") or (rows[0]["id"] if rows else None)
    enroll, result = Expectation("enroll"), Expectation("result")
    enroll.want("enrollment", len(rows))
    _one_event(snap, enroll, "training", "enrolled", "enrollment_id", eid)
    certificates = snap.certificates_by.get(eid, []) if eid else []
    result.want("certificate", len(certificates))
    result.want("completed enrollment", sum(r["status"] == "completed" for r in rows))
    _one_event(snap, result, "training", "training_completed", "enrollment_id", eid)
    cert_no = certificates[0]["cert_no"] if certificates else None
    _one_event(snap, result, "training", "certificate_issued", "cert_no", cert_no)
    judge(report, f"training of {vid} ({eid})", [enroll, result], _acked(op), _failed(op))


def check_loan(report, snap, op, claimed):
    vid, product = op.detail.get("veteran_id") or op.key, op.detail.get("product_code")
    claimed["borrowers"].add(vid)
    loans = snap.loans_by.get((vid, product), [])
    lid = op.detail.get("loan_id") or (loans[0]["id"] if loans else None)
    apply, approve, disburse = (
        Expectation("apply"),
        Expectation("approve"),
        Expectation("disburse"),
    )
    apply.want("loan", len(loans))
    apply.want("submitted line", snap.loan_history.get((lid, "submitted"), 0))
    _one_event(snap, apply, "loans", "loan_applied", "loan_id", lid)
    apply.want("application's assessments", snap.assessments_by.get((vid, product, None), 0), 2)
    announced = [
        e
        for e in snap.find("loans", "loan_eligibility_assessed", "veteran_id", vid)
        if e["data"].get("cause_event_id") is None
    ]
    apply.want("no-longer-eligible announcement", len(announced))
    approve.want("approved line", snap.loan_history.get((lid, "approved"), 0))
    _one_event(snap, approve, "loans", "loan_approved", "loan_id", lid)
    disburse.want("active line", snap.loan_history.get((lid, "active"), 0))
    terms = loans[0]["term_months"] if loans else 0
    disburse.want("instalment", snap.instalments.get(lid, 0) if lid else 0, terms or 1)
    _one_event(snap, disburse, "loans", "loan_disbursed", "loan_id", lid)
    judge(report, f"loan of {vid} ({lid})", [apply, approve, disburse], _acked(op), _failed(op))


CHECKS = {
    "register": check_register,
    "register_bulk": check_bulk,
    "enterprise": check_enterprise,
    "hire": check_hire,
    "training_result": check_training,
    "loan": check_loan,
}


# -- per event -----------------------------------------------------------------------------
def check_events(report, snap, products, plans):
    """Every consumer's effect of every event, exactly once; returns the timeline rows and
    revisits the events account for."""
    expected_timeline = set()  # (event_id, "v"/"e", subject)
    expected_revisits = set()  # (cause, veteran, kind)

    def want(label, found, wanted=1):
        if found < wanted:
            report.add("lost", label, wanted - found)
        elif found > wanted:
            report.add("duplicated", label, found - wanted)

    def assessed(event, veteran):
        for product in products:
            want(
                f"{product} assessment of {veteran} for {event['type']} {event['event_id']}",
                snap.assessments_by.get((veteran, product, event["event_id"]), 0),
            )

    def revisits(event, veteran, kind, days):
        expected_revisits.add((event["event_id"], veteran, kind))
        rows = snap.revisits_by.get((event["event_id"], veteran, kind), [])
        days_found = collections.Counter(r["due_on"] for r in rows)
        want(
            f"{kind} revisit plan of {veteran} for {event['type']} {event['event_id']}",
            len(days_found),
            len(days),
        )
        for day, n in days_found.items():
            if n > 1:
                report.add("duplicated", f"{kind} revisit of {veteran} due {day}", n - 1)

    def projected(schema, veteran):
        want(f"{schema} projection of {veteran}", int(veteran in snap.projections[schema]))

    for event in snap.events:
        source, kind, data, eid = (
            event["source"],
            event["type"],
            event["data"] or {},
            event["event_id"],
        )
        if kind in TIMELINE_TYPES.get(source, ()):
            subjects = (
                [("v", f) for f in data.get("founder_ids") or []]
                if source == "registry" and data.get("founder_ids")
                else [("v", data["veteran_id"])]
                if data.get("veteran_id")
                else []
            )
            if data.get("enterprise_id"):
                subjects.append(("e", data["enterprise_id"]))
            expected_timeline.update((eid, side, subject) for side, subject in subjects)
        veteran = data.get("veteran_id")
        if (source, kind) == ("registry", "veteran_registered"):
            for schema in ("loans", "jobs", "training", "followup"):
                projected(schema, veteran)
            assessed(event, veteran)
            announced = collections.Counter(
                e["data"].get("product_code")
                for e in snap.find("loans", "loan_eligibility_assessed", "cause_event_id", eid)
            )
            for product in products:
                want(f"first {product} announcement of {veteran}", announced.get(product, 0))
        elif (source, kind) == ("registry", "veteran_updated"):
            assessed(event, veteran)
        elif (source, kind) == ("registry", "employment_status_changed"):
            want(
                f"followup status change of {veteran} ({eid})",
                snap.status_changes.get((veteran, eid), 0),
            )
        elif (source, kind) == ("registry", "enterprise_registered"):
            enterprise = data["enterprise_id"]
            want(
                f"loans projection of enterprise {enterprise}",
                int(enterprise in snap.loan_enterprises),
            )
            want(
                f"followup projection of enterprise {enterprise}",
                int(enterprise in snap.followup_enterprises),
            )
            for founder in dict.fromkeys(data.get("founder_ids") or []):
                assessed(event, founder)
                revisits(event, founder, "business", plans["business"])
                want(
                    f"training placement of founder {founder} ({eid})",
                    snap.placements.get((founder, eid, "enterprise"), 0),
                )
        elif (source, kind) == ("jobs", "veteran_hired"):
            want(
                f"registry status change of {veteran} for hire {eid}",
                snap.history.get((veteran, "employment_status", eid), 0),
            )
            revisits(event, veteran, "employment", plans["employment"])
            want(f"followup hire of {veteran} ({eid})", snap.followup_hires.get((veteran, eid), 0))
            want(
                f"training placement of {veteran} ({eid})",
                snap.placements.get((veteran, eid, "hired"), 0),
            )
        elif (source, kind) == ("training", "certificate_issued"):
            want(
                f"certificate on the card of {veteran} ({eid})",
                snap.history.get((veteran, CERTIFICATE_FIELD, eid), 0),
            )
            jobs_view = snap.projections["jobs"].get(veteran)
            want(
                f"certificate in jobs' projection of {veteran}",
                int(
                    bool(jobs_view)
                    and data.get("certificate_name") in (jobs_view.get("certificates") or [])
                ),
            )
        elif (source, kind) == ("loans", "loan_disbursed"):
            revisits(event, veteran, "business", plans["business"])

    # Each revisit announced once.
    for row in snap.revisits:
        want(
            f"revisit_scheduled of revisit {row['id']}",
            len(snap.find("followup", "revisit_scheduled", "revisit_id", row["id"])),
        )
    return expected_timeline, expected_revisits


def check_timeline(report, snap, expected):
    """Each expected (event, subject) line once; lines beyond them are duplicates when their
    subject already has a line of that type, else unexpected."""
    rows = collections.Counter()
    groups = collections.Counter()  # (side, subject, type) → rows
    kinds = {}
    for row in snap.timeline:
        side, subject = (
            ("v", row["veteran_id"]) if row["veteran_id"] else ("e", row["enterprise_id"])
        )
        rows[(row["event_id"], side, subject)] += 1
        kinds[(row["event_id"], side, subject)] = row["type"]
        groups[(side, subject, row["type"])] += 1
    events = {e["event_id"]: e["type"] for e in snap.events}
    wanted_groups = collections.Counter(
        (side, subject, events[eid]) for eid, side, subject in expected
    )
    for key in expected:
        if rows.get(key, 0) == 0:
            eid, side, subject = key
            report.add("lost", f"timeline '{events[eid]}' for {subject} ({eid})")
    for key, n in rows.items():
        if key in expected:
            continue
        eid, side, subject = key
        kind = kinds[key]
        if wanted_groups.get((side, subject, kind)):
            report.add(
                "duplicated",
                f"timeline '{kind}' for {subject} x{groups[(side, subject, kind)]}"
                f" (line for event {eid} no event accounts for)",
                n,
            )
        else:
            report.add("unexpected", f"timeline '{kind}' for {subject} from unknown event {eid}", n)


def check_orphans(report, snap, claimed, expected_revisits):
    """Effects no operation (or event) asked for."""
    for what, rows, key, asked in (
        ("card", snap.veterans, "id_number", "id_numbers"),
        ("booklet", snap.enterprises, "uscc", "usccs"),
        ("application", snap.applications, "veteran_id", "applicants"),
        ("enrollment", snap.enrollments, "veteran_id", "trainees"),
        ("loan", snap.loans, "veteran_id", "borrowers"),
    ):
        for row in rows:
            if row[key] not in claimed[asked]:
                report.add("unexpected", f"{what} {row['id']} that no operation asked for")
    for key, rows in snap.revisits_by.items():
        if key not in expected_revisits:
            report.add(
                "unexpected",
                f"{len(rows)} {key[2]} revisit(s) of {key[1]} from unknown cause {key[0]}",
                len(rows),
            )


def configured():
    """The loan products and revisit plans as the services read them."""
    from services.followup.plans import load_plans
    from services.loans.products import load_products

    return sorted(load_products()), load_plans()["plans"]


def check(ops, database_url, management_url=None, auth=None, vhost="/"):
    """What the operations asked for against what the databases hold (see the module's
    table): a JSON-safe report with counts and up to ``MAX_PROBLEMS`` problems."""
    products, plans = configured()
    conn = psycopg2.connect(database_url)
    try:
        conn.set_session(readonly=True, isolation_level="REPEATABLE READ")
        snap = Snapshot(conn)
    finally:
        conn.close()
    report = Report()
    claimed = collections.defaultdict(set)
    for op in ops:
        if op.ok is None and not op.detail.get("stages"):
            # Never sent: nothing of it may exist (its key, when it has one, is claimed
            # so that the orphan check reports what does).
            continue
        CHECKS[op.kind](report, snap, op, claimed)
    expected_timeline, expected_revisits = check_events(report, snap, products, plans)
    check_timeline(report, snap, expected_timeline)
    check_orphans(report, snap, claimed, expected_revisits)
    dlq, late = {}, None
    if management_url and auth:
        try:
            rows = queues(management_url, auth, vhost)
            dlq, late = dead_letters(rows), late_replies(rows)
        except Exception as exc:  # the report says it could not look
            report.problems.append(f"dead letters unknown: {type(exc).__name__}")
    for name, depth in sorted(dlq.items()):
        if depth:
            report.problems.append(f"dead letters: {name} holds {depth}")
    sent = [op for op in ops if op.ok is not None]
    return {
        "sent": len(sent),
        "acknowledged": sum(op.ok is True for op in ops),
        "not_sent": sum(op.ok is None for op in ops),
        "by_kind": dict(collections.Counter(op.kind for op in sent)),
        "errors": dict(collections.Counter(op.error for op in ops if op.ok is False)),
        "lost": report.counts["lost"],
        "duplicated": report.counts["duplicated"],
        "unexpected": report.counts["unexpected"],
        "late_replies": late,
        "dead_letters": dlq,
        "outbox_backlog": sum(snap.backlog.values()),
        "last_effect_at": snap.last_effect_at(),
        "checked_at": bureau_clock().now().timestamp(),
        "problems": report.problems[:MAX_PROBLEMS],
    }
