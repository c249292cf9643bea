"""jobs: employers, postings, recruitment fairs, matching, applications and hires (the
employment bureau's HTTP integration is in bureau.py)."""
import datetime as dt
import uuid

import structlog
from nameko.timer import timer

from services.jobs import domain, schemas
from services.jobs.bureau import BureauHttp
from services.jobs.matching import reasons
from services.jobs.store import POSTING_COLUMNS, SEEKING_STATUSES, VETERAN_COLUMNS, JobsStore
from shared.auth import READ, STATS, WRITE
from shared.contracts.registry import (EMPLOYMENT_STATUS_CHANGED, VETERAN_REGISTERED,
                                       VETERAN_UPDATED)
from shared.contracts.training import CERTIFICATE_ISSUED
from shared.db import Database
from shared.errors import Conflict, NotFound
from shared.messaging import batch_event_handler, rpc
from shared.service import ServiceBase
from shared.validation import invalid, load, load_page, parse_uuid

log = structlog.get_logger(__name__)
RECOMMENDATIONS = 10
# A hire's start date is a real date near today, not a typo a decade away.
START_WINDOW = dt.timedelta(days=366)


class JobsService(BureauHttp, ServiceBase):
    name = "jobs"
    store = Database(JobsStore)

    # -- employers ------------------------------------------------------------------------
    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def register_employer(self, data):
        command = load(schemas.EMPLOYER_INPUT, data)
        self.auth.require_county(command["county_code"])
        try:
            employer = self._new_employer(command)
        except Conflict as clash:  # name the holder only to a caller who may see it
            holder = self.store.get_employer(clash.details["employer_id"])
            if holder is not None and self.auth.may_see(holder["county_code"]):
                raise
            raise Conflict("this unified social credit code is already registered; ask the "
                           "prefecture office", {}) from None
        log.info("employer.registered", employer_id=employer["id"],
                 county_code=employer["county_code"], operator_id=self.auth.operator.id)
        return domain.present_employer(employer)

    def _new_employer(self, command, operator_id=None):
        now = self.clock.now()
        row = {**command, "id": str(uuid.uuid4()), "created_at": now,
               "created_by": operator_id or self.auth.operator.id}
        existing = self.store.add_employer(row)
        if existing:
            raise Conflict("an employer with this unified social credit code is registered",
                           {"employer_id": existing})
        return row

    @rpc(roles=READ)
    def get_employer(self, employer_id):
        return domain.present_employer(self._employer(employer_id))

    # -- postings -------------------------------------------------------------------------
    @rpc(roles=WRITE)
    def post_job(self, data):
        command = load(schemas.POST_INPUT, data)
        employer = self.store.get_employer(command.pop("employer_id"))
        if employer is None or not self.auth.may_see(employer["county_code"]):
            raise invalid({"employer_id": ["no employer with this id"]})
        self.auth.require_county(command["county_code"])
        posting = self._new_posting(command, employer, command.pop("source"))
        log.info("job.posted", posting_id=posting["id"], county_code=posting["county_code"],
                 operator_id=self.auth.operator.id)
        return self._present(posting)

    def _new_posting(self, command, employer, source, operator_id=None, bureau_id=None):
        if command["closes_on"] < self.clock.today():
            raise invalid({"closes_on": ["is in the past"]})
        now = self.clock.now()
        posting = {**command, "id": str(uuid.uuid4()), "employer_id": str(employer["id"]),
                   "source": source, "bureau_posting_id": bureau_id, "hired": 0,
                   "status": "open", "created_at": now, "updated_at": now,
                   "created_by": operator_id or self.auth.operator.id}
        self.store.add_posting(posting)
        self.store.emit(domain.posted_event(posting))
        return posting

    @rpc(roles=WRITE)
    def close_job(self, posting_id, reason):
        reason = load(schemas.CLOSE_INPUT, {"reason": reason})["reason"]
        posting = self._own(self._posting(posting_id, lock=True), "posting", posting_id)
        if not self.store.close_posting(posting["id"], reason, self.clock.now()):
            raise Conflict(f"the posting is closed already ({posting['closed_reason']})",
                           {"posting_id": str(posting["id"])})
        self.store.emit(domain.closed_event(str(posting["id"]), reason))
        log.info("job.closed", posting_id=str(posting["id"]), reason=reason,
                 operator_id=self.auth.operator.id)
        return self._present(self.store.get_posting(posting["id"]))

    @rpc(roles=READ)
    def get_job(self, posting_id):
        """A posting, whatever its county: postings are public notices."""
        return self._present(self._posting(posting_id))

    @rpc(roles=READ, sensitive_arguments=("filters",))
    def search_jobs(self, filters=None, page=1, page_size=50):
        """Postings matching every filter (default: open ones), newest first:
        ``{items, total, page, page_size}``."""
        query = load(schemas.SEARCH_INPUT, {} if filters is None else filters)
        page, size = load_page(page, page_size)
        total, rows = self.store.search_postings(query, self.clock.today(), size,
                                                 (page - 1) * size)
        return {"items": [self._present(row) for row in rows], "total": total,
                "page": page, "page_size": size}

    @timer(interval=300)
    def close_expired_postings(self):
        """Closes postings whose date has passed, announcing each (replicas may run this
        at once: the rows are taken with SKIP LOCKED)."""
        ids = self.store.expire_postings(self.clock.today(), self.clock.now())
        self.store.emit(*[domain.closed_event(posting_id, domain.EXPIRED) for posting_id in ids])
        if ids:
            log.info("jobs.expired", count=len(ids))
        return len(ids)

    # -- matching -------------------------------------------------------------------------
    @rpc(roles=READ)
    def match_jobs(self, veteran_id, limit=10):
        """Open postings ranked for a veteran: ``[{posting, score, reasons}]``."""
        limit = load(schemas.LIMIT_INPUT, {"limit": limit})["limit"]
        veteran = self._veteran(veteran_id)
        ranked = self.store.match_postings(veteran, self.clock.today(), limit, POSTING_COLUMNS)
        return [{"posting": self._present(posting), "score": score,
                 "reasons": reasons(veteran, posting)} for posting, score in ranked]

    @rpc(roles=READ)
    def match_candidates(self, posting_id, limit=20):
        """Veterans of the caller's counties who want a job and are not working, ranked for
        a posting: ``[{veteran_id, county_code, employment_status, score, reasons}]``."""
        limit = load(schemas.LIMIT_INPUT, {"limit": limit})["limit"]
        posting = self._posting(posting_id)
        ranked = self.store.match_veterans(posting, limit, self.auth.scope(), SEEKING_STATUSES,
                                           VETERAN_COLUMNS)
        return [{"veteran_id": str(v["veteran_id"]), "county_code": v["county_code"],
                 "employment_status": v["employment_status"], "score": score,
                 "reasons": reasons(v, posting)} for v, score in ranked]

    @rpc(roles=READ)
    def recommendations_for(self, veteran_id):
        """The postings stored for a veteran when their facts last changed (a clerk's
        worklist), still open ones only: ``[{posting, score}]``."""
        veteran = self._veteran(veteran_id)
        out = []
        for posting_id, score in self.store.recommendations(veteran["veteran_id"]):
            posting = self._present(self.store.get_posting(posting_id))
            if posting["status"] == "open":
                out.append({"posting": posting, "score": score})
        return out

    # The facts matching needs, from registry's and training's events, one batch per
    # transaction; each veteran whose facts changed gets fresh recommendations.
    @batch_event_handler("registry", VETERAN_REGISTERED, also=[
        ("registry", VETERAN_UPDATED), ("registry", EMPLOYMENT_STATUS_CHANGED),
        ("training", CERTIFICATE_ISSUED)])
    def on_veteran_events(self, events):
        ids = {event.data["veteran_id"] for event in events}
        known = self.store.get_veterans(ids, lock=True)
        changed, refresh = {}, set()
        for event in events:
            data, veteran_id = event.data, event.data["veteran_id"]
            current = changed.get(veteran_id) or known.get(veteran_id)
            if event.type == VETERAN_REGISTERED:
                row = projection(data)
            elif event.type == VETERAN_UPDATED:
                row = projection(data["snapshot"])
            elif current is None:  # news of a veteran jobs has not heard of yet
                log.warning("jobs.unknown_veteran", veteran_id=veteran_id, type=event.type)
                continue
            elif event.type == EMPLOYMENT_STATUS_CHANGED:
                row = {**current, "employment_status": data["current"]}
                if data["current"] != "unemployed":
                    changed[veteran_id] = row
                    continue
            else:  # certificate_issued
                row = {**current,
                       "certificates": union(current["certificates"], [data["certificate_name"]]),
                       "skills": union(current["skills"], data["skills_granted"])}
            changed[veteran_id] = row
            refresh.add(veteran_id)
        self.store.save_veterans(changed.values(), self.clock.now())
        for veteran_id in sorted(refresh):
            self._refresh_recommendations(changed[veteran_id])

    def _refresh_recommendations(self, veteran):
        scored = []
        if veteran["willingness"] == "job" and veteran["employment_status"] in SEEKING_STATUSES:
            scored = [(str(p["id"]), score) for p, score in self.store.match_postings(
                veteran, self.clock.today(), RECOMMENDATIONS, ("id",))]
        self.store.save_recommendations(veteran["veteran_id"], scored, self.clock.now())

    # -- fairs ----------------------------------------------------------------------------
    @rpc(roles=WRITE)
    def schedule_fair(self, data):
        command = load(schemas.FAIR_INPUT, data)
        self.auth.require_county(command["county_code"])
        errors = {}
        for field, noun, existing in (
                ("employer_ids", "employer", self.store.existing_employers),
                ("posting_ids", "posting", self.store.existing_postings)):
            wanted = [str(i) for i in command[field]]
            # Postings are public offers, any county's; employers the caller's counties'.
            counties = self.auth.scope() if noun == "employer" else None
            found = existing(wanted, counties) if wanted else set()
            for index, value in enumerate(wanted):
                if value not in found:
                    errors[f"{field}.{index}"] = [f"no {noun} with this id"]
            command[field] = [uuid.UUID(i) for i in dict.fromkeys(wanted)]
        if errors:
            raise invalid(errors)
        fair = {**command, "id": str(uuid.uuid4()), "created_at": self.clock.now(),
                "created_by": self.auth.operator.id}
        self.store.add_fair(fair)
        log.info("fair.scheduled", fair_id=fair["id"], county_code=fair["county_code"],
                 mode=fair["mode"], operator_id=self.auth.operator.id)
        return self._present_fair(fair)

    @rpc(roles=WRITE)
    def register_for_fair(self, fair_id, veteran_id):
        fair = self._fair(fair_id)  # any county's: a fair is a public offer
        veteran = self._veteran(veteran_id)
        added = self.store.register_for_fair(fair["id"], veteran["veteran_id"], self.clock.now(),
                                             self.auth.operator.id)
        return {"fair_id": str(fair["id"]), "veteran_id": str(veteran["veteran_id"]),
                "registered": True, "already": not added}

    @rpc(roles=READ)
    def get_fair(self, fair_id):
        """A fair with its figures: registrations, applications, interviews, intentions
        reached (offers and hires) and hires; for the fair's own counties only (another
        county's fair is answered as a missing one)."""
        return self._present_fair(self._own(self._fair(fair_id), "fair", fair_id))

    def _present_fair(self, fair):
        return {**domain.plain(fair), **self.store.fair_figures(fair["id"])}

    # -- applications and hires -----------------------------------------------------------
    @rpc(roles=WRITE)
    def apply(self, data):
        command = load(schemas.APPLY_INPUT, data)
        veteran = self._veteran(command["veteran_id"])
        posting = self._posting(command["posting_id"])  # any county's: a public offer
        self._require_open(posting)
        if command["fair_id"] is not None:
            fair = self._fair(command["fair_id"], field="fair_id")
            if fair["posting_ids"] and posting["id"] not in fair["posting_ids"]:
                raise invalid({"posting_id": ["is not one of the fair's postings"]})
        now, operator = self.clock.now(), self.auth.operator
        application = {"id": str(uuid.uuid4()), "veteran_id": str(veteran["veteran_id"]),
                       "posting_id": str(posting["id"]), "county_code": veteran["county_code"],
                       "channel": command["channel"],
                       "fair_id": str(command["fair_id"]) if command["fair_id"] else None,
                       "status": "submitted", "submitted_at": now, "updated_at": now,
                       "created_by": operator.id}
        if not self.store.add_application(application):
            raise Conflict("this veteran has applied for this posting already", {
                "application_id": self.store.application_of(veteran["veteran_id"], posting["id"])})
        self.store.add_history(application["id"], now, None, "submitted", None, operator.id)
        self.store.emit(domain.submitted_event(application))
        log.info("application.submitted", application_id=application["id"],
                 posting_id=application["posting_id"], channel=application["channel"],
                 operator_id=operator.id)
        return self._present_application(application)

    @rpc(roles=WRITE, sensitive_arguments=("note",))
    def advance_application(self, application_id, status, note=None):
        command = load(schemas.ADVANCE_INPUT, {"status": status, "note": note})
        application = self._application(application_id, lock=True)
        self._move(application, command["status"], command["note"])
        return self._present_application(self.store.get_application(application["id"]))

    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def hire(self, application_id, data):
        """Hires on an offered application: takes one of the posting's openings (never
        past the last, also under concurrent hires), emits ``veteran_hired``, and closes
        the posting when its last opening is taken."""
        command = load(schemas.HIRE_INPUT, data)
        today = self.clock.today()
        if abs(command["started_on"] - today) > START_WINDOW:
            raise invalid({"started_on": ["must be within a year of today"]})
        application = self._application(application_id, lock=True)
        if not domain.may_move(application["status"], "hired"):
            raise Conflict(domain.illegal_move(application["status"], "hired"),
                           {"application_id": str(application["id"])})
        posting = self.store.get_posting(application["posting_id"])
        self._require_open(posting)
        now = self.clock.now()
        taken = self.store.take_opening(posting["id"], now)
        if taken is None:
            raise Conflict("the posting has no opening left",
                           {"posting_id": str(posting["id"])})
        employer = self.store.get_employer(posting["employer_id"])
        hire = {"application_id": str(application["id"]),
                "veteran_id": str(application["veteran_id"]), "posting_id": str(posting["id"]),
                "employer_id": str(posting["employer_id"]),
                "county_code": application["county_code"], "started_on": command["started_on"],
                "salary": command["salary"], "channel": application["channel"],
                "dedicated": posting["dedicated"], "hired_at": now,
                "hired_by": self.auth.operator.id}
        self.store.add_hire(hire)
        self._move(application, "hired", command["note"])
        self.store.emit(domain.hired_event(hire, employer["name"]))
        hired, openings = taken
        if hired == openings and self.store.close_posting(posting["id"], domain.FILLED, now):
            self.store.emit(domain.closed_event(str(posting["id"]), domain.FILLED))
        log.info("veteran.hired", application_id=hire["application_id"],
                 posting_id=hire["posting_id"], county_code=hire["county_code"],
                 operator_id=self.auth.operator.id)
        return {**self._present_application(self.store.get_application(application["id"])),
                "started_on": hire["started_on"].isoformat(), "salary": hire["salary"],
                "posting_remaining": openings - hired}

    @rpc(roles=READ)
    def applications_for(self, veteran_id):
        """A veteran's applications, newest first, each with its history."""
        veteran = self._veteran(veteran_id)
        rows = self.store.applications_of(veteran["veteran_id"])
        history = {}
        for entry in self.store.history([row["id"] for row in rows]):
            history.setdefault(entry.pop("application_id"), []).append(domain.plain(entry))
        return [{**domain.plain(row), "history": history.get(row["id"], [])} for row in rows]

    def _move(self, application, target, note):
        if not domain.may_move(application["status"], target):
            raise Conflict(domain.illegal_move(application["status"], target),
                           {"application_id": str(application["id"])})
        now = self.clock.now()
        self.store.set_status(application["id"], target, now)
        self.store.add_history(application["id"], now, application["status"], target, note,
                               self.auth.operator.id)
        log.info("application.moved", application_id=str(application["id"]),
                 status=target, operator_id=self.auth.operator.id)

    # -- statistics -----------------------------------------------------------------------
    @rpc(roles=STATS)
    def stats(self, county_code=None):
        county_code, counties, listed = self.stats_scope(county_code)
        figures = self.store.stats(counties, self.clock.today(), self.clock.now())
        return {"county_code": county_code, "counties": listed, **figures}

    # -- helpers --------------------------------------------------------------------------
    def _present(self, posting):
        return domain.present_posting(posting, self.clock.today())

    def _present_application(self, application):
        return domain.plain(application)

    def _employer(self, employer_id):
        employer = self.store.get_employer(parse_uuid(employer_id, "employer_id"))
        if employer is None or not self.auth.may_see(employer["county_code"]):
            raise NotFound(f"no employer {employer_id}")
        return employer

    def _own(self, offer, kind, offer_id):
        """A public offer (posting, fair) to manage or to read figures of: only in the
        caller's counties; another county's is answered as a missing one."""
        if not self.auth.may_see(offer["county_code"]):
            raise NotFound(f"no {kind} {offer_id}")
        return offer

    def _posting(self, posting_id, lock=False):
        posting = self.store.get_posting(parse_uuid(posting_id, "posting_id"), lock=lock)
        if posting is None:
            raise NotFound(f"no posting {posting_id}")
        return posting

    def _fair(self, fair_id, field="fair_id"):
        fair = self.store.get_fair(parse_uuid(fair_id, field))
        if fair is None:
            raise NotFound(f"no fair {fair_id}")
        return fair

    def _veteran(self, veteran_id):
        """The veteran as jobs knows them (from registry's events), within the caller's
        counties."""
        veteran = self.store.get_veteran(parse_uuid(veteran_id, "veteran_id"))
        if veteran is None or not self.auth.may_see(veteran["county_code"]):
            raise NotFound(f"jobs has no veteran {veteran_id} (registered veterans reach "
                           "jobs through registry's events)")
        return veteran

    def _application(self, application_id, lock=False):
        application = self.store.get_application(parse_uuid(application_id, "application_id"),
                                                 lock=lock)
        if application is None or not self.auth.may_see(application["county_code"]):
            raise NotFound(f"no application {application_id}")
        return application

    def _require_open(self, posting):
        today = self.clock.today()
        if posting["status"] != "open" or posting["closes_on"] < today:
            reason = posting["closed_reason"] or domain.EXPIRED
            raise Conflict(f"the posting is closed ({reason})", {"posting_id": str(posting["id"])})
        if posting["hired"] >= posting["openings"]:
            raise Conflict("the posting has no opening left", {"posting_id": str(posting["id"])})


def projection(data):
    """The facts jobs keeps of a veteran, from ``veteran_registered`` data or a snapshot."""
    intentions = data.get("intentions") or {}
    return {"veteran_id": data["veteran_id"], "county_code": data["county_code"],
            "skills": list(data.get("skills") or []),
            "certificates": list(data.get("certificates") or []),
            "occupations": list(intentions.get("occupations") or []),
            "counties": list(intentions.get("counties") or []),
            "min_salary": intentions.get("min_salary"),
            "willingness": data["willingness"], "employment_status": data["employment_status"]}


def union(current, more):
    return list(current) + [item for item in more if item not in set(current)]

