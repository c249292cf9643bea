"""The fault suite's load: a seeded mix of real RPC writes (registrations single and bulk,
enterprises, applications and hires, training results, loans) from concurrent clients,
each recorded as an ``Op`` whether it was acknowledged, raised or never sent.

A write that raised is never sent again: its outcome is for the checker to find out. A
client whose connection died (or whose call timed out) gets a new proxy
(``shared.rpc_client``); only reads (waiting for a projection) are retried. Dependent
operations (a hire, an enterprise, a training result, a loan) take veterans from
acknowledged registrations only, each veteran used by at most one of them, so that what
each should cause is known exactly."""

import collections
import datetime as dt
import random
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field

from nameko.exceptions import RemoteError
from stdnum.cn import uscc as uscc_number

import shared.errors  # noqa: F401  (registers the project's errors with nameko)
from shared.clock import bureau_clock
from shared.errors import ServiceError
from shared.logging import mask_text
from shared.rpc_client import cluster_proxy
from tests.factories import id_number, make_veteran

KINDS = ("register", "register_bulk", "enterprise", "hire", "training_result", "loan")
DEPENDENT = ("enterprise", "hire", "training_result", "loan")
# Share of each kind in a run (every kind at least once when there are enough operations).
WEIGHTS = {
    "register": 30,
    "register_bulk": 8,
    "enterprise": 12,
    "hire": 18,
    "training_result": 14,
    "loan": 18,
}
BULK_ROWS = (20, 50)
# ID numbers: registry's sequence form (gender digit 1/2, never one the factories' other
# forms make), 200 a birth day; each seed has DAYS_PER_SEED birth days of its own between
# 1970 and 2000 (age 26-56: within the loan product's limits), so runs never collide.
# 80,000 numbers a seed: 10,000 operations use ~37,000 (bulk rows, dependents' veterans)
# and a run with many retries more (one ran out at 40,000).
FIRST_BIRTH, DAYS_PER_SEED, SEED_SLOTS = dt.date(1970, 1, 1), 400, 28
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
NAMES = ("张伟", "李强", "王磊", "刘洋", "陈军", "杨勇", "赵刚", "黄海", "周涛", "吴斌")
CERTIFICATE = "消防设施操作员证"
# Waiting for a projection (a read, safe to repeat) before a dependent write.
PROJECTION_WAIT = 10.0
RECONNECT_WAIT = 120.0


def now():
    """Epoch seconds from the bureau's clock (the project reads no other wall clock)."""
    return bureau_clock().now().timestamp()


@dataclass
class Op:
    """One client operation. ``ok``: True acknowledged, False raised, None not sent."""

    kind: str
    key: str
    ok: bool | None = None
    error: str | None = None
    started: float = 0.0
    ended: float = 0.0
    detail: dict = field(default_factory=dict)

    def to_dict(self):
        return asdict(self)


def error_kind(exc):
    """The error's kind: a project error's class, a remote one's ``exc_type``, else the
    exception's class (``RpcTimeout``, ``ConnectionError``, ...)."""
    if isinstance(exc, RemoteError):
        return exc.exc_type or "RemoteError"
    return type(exc).__name__


def is_answer(exc):
    """The service answered (the connection is fine): a project error or a remote one."""
    return isinstance(exc, (ServiceError, RemoteError))


class Stopped(Exception):
    """The run was stopped, or the broker stayed out of reach."""


class Client:
    """One client thread's proxy, made again whenever its connection is in doubt."""

    def __init__(self, config, token, timeout, stop):
        self.config, self.token, self.timeout, self.stop = config, token, timeout, stop
        self._ctx = self._proxy = None

    def proxy(self):
        if self._proxy is None:
            deadline, delay = time.monotonic() + RECONNECT_WAIT, 0.2
            while True:
                try:
                    self._ctx = cluster_proxy(
                        self.config, timeout=self.timeout, context_data={"auth_token": self.token}
                    )
                    self._proxy = self._ctx.start()
                    break
                except Exception:  # the broker is down: try again, a little later
                    self._ctx = None
                    if self.stop.is_set() or time.monotonic() > deadline:
                        raise Stopped("no broker connection") from None
                    time.sleep(delay)
                    delay = min(delay * 2, 3.0)
        return self._proxy

    def drop(self):
        """Forget the proxy (its connection may be dead); the next call makes a new one."""
        ctx, self._ctx, self._proxy = self._ctx, None, None
        if ctx is not None:
            try:
                ctx.stop()
            except Exception:  # stopping a dead connection: nothing to save
                pass

    def call(self, service, method, *args):
        """One write: sent once. A connection-level error drops the proxy and re-raises."""
        proxy = self.proxy()
        try:
            return getattr(getattr(proxy, service), method)(*args)
        except Exception as exc:
            if not is_answer(exc):
                self.drop()
            raise

    def read(self, service, method, *args, until=None):
        """A read, repeated (new proxy and all) until it answers or ``until`` passes;
        a project error is returned, not raised."""
        while True:
            try:
                return getattr(getattr(self.proxy(), service), method)(*args)
            except ServiceError as exc:
                return exc
            except Exception as exc:
                if not is_answer(exc):
                    self.drop()
                if self.stop.is_set() or (until is not None and time.monotonic() > until):
                    return exc
                time.sleep(0.3)


class Load:
    def __init__(
        self,
        amqp_uri,
        token,
        *,
        operations,
        concurrency=8,
        seed=0,
        rpc_timeout=30.0,
        county="652301",
    ):
        self.config = {"AMQP_URI": amqp_uri}
        self.token, self.operations, self.concurrency = token, operations, concurrency
        self.seed, self.rpc_timeout, self.county = seed, rpc_timeout, county
        self.rng = random.Random(seed)
        self.plan = plan(operations, self.rng)
        self._lock = threading.Lock()
        self._sent = 0
        self._numbers = 0
        self._usccs = 0
        self._phones = 0
        # Acknowledged veterans not yet used by a dependent operation, by willingness.
        self._pool = {"business": collections.deque(), "job": collections.deque()}
        self._ready = threading.Condition(self._lock)
        self.prepared_ops = []
        self.setup = {}

    # -- data ---------------------------------------------------------------------------
    def _id_number(self):
        with self._lock:
            index = self._numbers
            self._numbers += 1
        if index >= DAYS_PER_SEED * 200:
            raise RuntimeError("this run has used every ID number its seed owns")
        day = FIRST_BIRTH + dt.timedelta(
            days=(self.seed % SEED_SLOTS) * DAYS_PER_SEED + index // 200
        )
        return id_number(
            county=self.county, birth=f"{day:%Y%m%d}", seq=index % 100, male=index % 200 < 100
        )

    def _veteran(self, willingness):
        with self._lock:
            self._phones += 1
            phone = f"139{self.seed % 100:02d}{self._phones:06d}"
        return make_veteran(
            id_number=self._id_number(),
            name=self.rng.choice(NAMES),
            phone=phone,
            county_code=self.county,
            willingness=willingness,
            intentions={"occupations": ["driver"], "counties": [self.county], "min_salary": 4000},
        )

    def _uscc(self):
        with self._lock:
            value = self.seed * 1_000_000 + self._usccs
            self._usccs += 1
        digits = ""
        for _ in range(9):
            value, rest = divmod(value, len(USCC_ALPHABET))
            digits = USCC_ALPHABET[rest] + digits
        body = "91" + self.county + digits
        return body + uscc_number.calc_check_digit(body)

    # -- prerequisites ------------------------------------------------------------------
    def prepare(self):
        """Employers, postings, a training base, course and cohort, the loan product, and
        veterans enough for the dependent operations (one bulk registration per 200,
        returned by ``run`` as ops of their own), known to every service. Raises if
        anything fails."""
        client = Client(self.config, self.token, self.rpc_timeout, threading.Event())
        try:
            self._prepare(client)
        finally:
            client.drop()

    def _prepare(self, client):
        today = bureau_clock().today()
        employer = client.call(
            "jobs",
            "register_employer",
            {
                "name": "昌吉市戎安物流有限公司",
                "uscc": self._uscc(),
                "county_code": self.county,
                "industry": "logistics",
            },
        )
        dependent = sum(kind in DEPENDENT for kind in self.plan)
        self.setup["postings"] = [
            client.call(
                "jobs",
                "post_job",
                {
                    "employer_id": employer["id"],
                    "title": "货车司机",
                    "occupation": "driver",
                    "skills_required": ["driver_b2"],
                    "county_code": self.county,
                    "salary_min": 5000,
                    "salary_max": 7000,
                    "openings": max(dependent, 1) + 10,
                    "dedicated": True,
                    "closes_on": (today + dt.timedelta(days=90)).isoformat(),
                },
            )["id"]
            for _ in range(2)
        ]
        base = client.call(
            "training",
            "register_base",
            {
                "name": "昌吉市消防职业技能培训学校",
                "kind": "training",
                "county_code": self.county,
                "capacity": 10_000,
            },
        )
        course = client.call(
            "training",
            "open_course",
            {
                "title": "消防设施操作员（初级）",
                "occupation": "fire_facility_operator",
                "certificate_name": CERTIFICATE,
                "skills_granted": ["fire_facility_operator"],
                "theory_hours": 40,
                "practical_hours": 60,
                "mode": "hybrid",
                "base_id": base["id"],
            },
        )
        self.setup["cohort_id"] = client.call(
            "training",
            "open_cohort",
            course["id"],
            {
                "starts_on": (today + dt.timedelta(days=1)).isoformat(),
                "ends_on": (today + dt.timedelta(days=30)).isoformat(),
                "capacity": 10_000,
            },
        )["id"]
        products = client.call("loans", "list_products")
        usable = [p for p in products if self.county in p["counties"]]
        if not usable:
            raise RuntimeError(f"no loan product covers county {self.county}")
        product = next((p for p in usable if p["code"] == "yongjun_chuangye"), usable[0])
        self.setup["product"] = {
            "code": product["code"],
            "amount": product["max_principal"],
            "term_months": min(24, product["max_term_months"]),
        }
        # Veterans for the dependent operations: business-minded ones for loans and
        # enterprises (founders may be two), any for hires and training; a margin each.
        business = sum(kind in ("loan", "enterprise") for kind in self.plan)
        others = sum(kind in ("hire", "training_result") for kind in self.plan)
        willingness = ["business"] * (business + business // 2 + 2) + ["job"] * (others + 4)
        last = None
        for start in range(0, len(willingness), 200):
            rows = [self._veteran(w) for w in willingness[start : start + 200]]
            op = Op("register_bulk", str(uuid.uuid4()), detail={"phase": "prepare"})
            self._bulk(client, op, rows)
            if not op.ok:
                raise RuntimeError(f"preparing veterans failed: {op.error}")
            self.prepared_ops.append(op)
            last = op.detail["veteran_ids"][-1]
        until = time.monotonic() + 60
        for service, method in (
            ("jobs", "applications_for"),
            ("training", "trainings_for"),
            ("loans", "get_eligibility"),
        ):
            if not self._known(client, service, method, last, until):
                raise RuntimeError(f"{service} did not learn of the prepared veterans in time")
        with self._lock:
            self._sent = 0  # the runner counts the run's operations

    @staticmethod
    def _known(client, service, method, veteran_id, until):
        """Whether ``service`` has veteran ``veteran_id`` in its projection (by a read)."""
        while True:
            answer = client.read(service, method, veteran_id, until=until)
            if not isinstance(answer, Exception) and (method != "get_eligibility" or answer):
                return True
            if time.monotonic() > until:
                return False
            time.sleep(0.2)

    # -- the run ------------------------------------------------------------------------
    def sent(self):
        with self._lock:
            return self._sent

    def run(self, stop=None):
        """Sends the planned operations from ``concurrency`` clients; returns every Op
        (the prepared veterans' bulk registrations first)."""
        stop = stop or threading.Event()
        ops = [None] * len(self.plan)
        cursor = iter(range(len(self.plan)))
        take = threading.Lock()

        failures = []

        def worker():
            client = Client(self.config, self.token, self.rpc_timeout, stop)
            try:
                while True:
                    with take:
                        index = next(cursor, None)
                    if index is None:
                        return
                    kind = self.plan[index]
                    if stop.is_set():
                        ops[index] = Op(kind, "", error="Stopped")
                        continue
                    ops[index] = self._one(client, kind, stop)
            except Exception as exc:  # the load's own bug: the run is void, not "clean"
                failures.append(exc)
                stop.set()
            finally:
                client.drop()

        threads = [
            threading.Thread(target=worker, name=f"chaos-load-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise RuntimeError(
                f"the load failed ({len(failures)} of its clients): "
                f"{type(failures[0]).__name__}: {failures[0]}"
            )
        return list(self.prepared_ops) + ops

    def _one(self, client, kind, stop):
        try:
            if kind == "register":
                return self._register(client)
            if kind == "register_bulk":
                op = Op(kind, str(uuid.uuid4()))
                rows = [
                    self._veteran(self.rng.choice(("business", "job")))
                    for _ in range(self.rng.randint(*BULK_ROWS))
                ]
                return self._bulk(client, op, rows)
            veterans = self._take(kind, stop)
            if veterans is None:
                return Op(kind, "", error="NoVeteran")
            return getattr(self, f"_{kind}")(client, veterans, stop)
        except Stopped as exc:
            return Op(kind, "", error=f"Stopped: {exc}")

    def _send(self, client, op, stage, service, method, *args):
        """One write of ``op`` (its stage ``stage``); records it and returns the reply, or
        None when it raised (then ``op`` is finished as raised)."""
        try:
            client.proxy()
        except Stopped:  # this stage was never sent: the op ends after its earlier stages
            op.ok = False if op.detail.get("stages") else None
            op.error, op.ended = "Stopped", now()
            return None
        if not op.started:
            op.started = now()
        with self._lock:
            if op.detail.get("stages") is None:
                self._sent += 1
        op.detail.setdefault("stages", [])
        try:
            reply = client.call(service, method, *args)
        except Exception as exc:
            op.ok, op.error, op.ended = False, error_kind(exc), now()
            op.detail["failed_stage"] = stage
            # what it said, masked (a project error may quote the input)
            op.detail["error_text"] = mask_text(str(exc))[:160]
            return None
        op.detail["stages"].append(stage)
        return reply

    def _done(self, op):
        op.ok, op.ended = True, now()
        return op

    def _acknowledged(self, veteran_id, willingness):
        with self._ready:
            self._pool[willingness].append(veteran_id)
            self._ready.notify_all()

    def _take(self, kind, stop):
        """Veterans for a dependent operation, acknowledged and unused: a business-minded
        one for a loan or an enterprise (1-2 founders), any for a hire or training."""
        wanted = (1 + (self.rng.random() < 0.3)) if kind == "enterprise" else 1
        pools = ("business",) if kind in ("loan", "enterprise") else ("job", "business")
        deadline = time.monotonic() + 30
        with self._ready:
            while True:
                for name in pools:
                    if len(self._pool[name]) >= wanted:
                        return [self._pool[name].popleft() for _ in range(wanted)]
                if stop.is_set() or time.monotonic() > deadline:
                    return None
                self._ready.wait(0.5)

    def _register(self, client):
        data = self._veteran(self.rng.choice(("business", "job")))
        op = Op("register", data["id_number"], detail={"willingness": data["willingness"]})
        reply = self._send(client, op, "register", "registry", "register_veteran", data)
        if reply is None:
            return op
        op.detail["veteran_id"] = reply["id"]
        self._acknowledged(reply["id"], data["willingness"])
        return self._done(op)

    def _bulk(self, client, op, rows):
        op.detail.update(
            id_numbers=[r["id_number"] for r in rows], willingness=[r["willingness"] for r in rows]
        )
        reply = self._send(client, op, "register", "registry", "register_veterans", rows)
        if reply is None:
            return op
        results = sorted(reply["results"], key=lambda r: r["row"])
        op.detail["veteran_ids"] = [r["id"] for r in results]
        op.detail["statuses"] = [r["status"] for r in results]
        for result, row in zip(results, rows, strict=True):
            if result["status"] == "created":
                self._acknowledged(result["id"], row["willingness"])
        return self._done(op)

    def _wait_known(self, client, service, method, veteran_id, stop):
        """Give the service's projection a moment (reads only); go on regardless."""
        until = time.monotonic() + PROJECTION_WAIT
        while not stop.is_set():
            answer = client.read(service, method, veteran_id, until=until)
            if not isinstance(answer, Exception) and (method != "get_eligibility" or answer):
                return
            if time.monotonic() > until:
                return
            time.sleep(0.2)

    def _enterprise(self, client, founders, stop):
        op = Op("enterprise", self._uscc(), detail={"founder_ids": founders})
        reply = self._send(
            client,
            op,
            "register",
            "registry",
            "register_enterprise",
            {
                "kind": "enterprise",
                "uscc": op.key,
                "name": "昌吉市戎创商贸有限公司",
                "county_code": self.county,
                "industry": "ecommerce",
                "founded_on": "2025-05-01",
                "stage": "startup",
                "founder_ids": founders,
                "employees": 6,
                "veteran_employees": len(founders),
            },
        )
        if reply is None:
            return op
        op.detail["enterprise_id"] = reply["id"]
        return self._done(op)

    def _hire(self, client, veterans, stop):
        [veteran_id] = veterans
        posting_id = self.rng.choice(self.setup["postings"])
        op = Op("hire", veteran_id, detail={"veteran_id": veteran_id, "posting_id": posting_id})
        self._wait_known(client, "jobs", "applications_for", veteran_id, stop)
        application = self._send(
            client,
            op,
            "apply",
            "jobs",
            "apply",
            {"veteran_id": veteran_id, "posting_id": posting_id, "channel": "referral"},
        )
        if application is None:
            return op
        op.detail["application_id"] = application["id"]
        if (
            self._send(
                client, op, "offer", "jobs", "advance_application", application["id"], "offered"
            )
            is None
        ):
            return op
        if (
            self._send(
                client,
                op,
                "hire",
                "jobs",
                "hire",
                application["id"],
                {"started_on": bureau_clock().today().isoformat(), "salary": 5500},
            )
            is None
        ):
            return op
        return self._done(op)

    def _training_result(self, client, veterans, stop):
        [veteran_id] = veterans
        op = Op(
            "training_result",
            veteran_id,
            detail={"veteran_id": veteran_id, "cohort_id": self.setup["cohort_id"]},
        )
        self._wait_known(client, "training", "trainings_for", veteran_id, stop)
        enrollment = self._send(
            client, op, "enroll", "training", "enroll", self.setup["cohort_id"], veteran_id
        )
        if enrollment is None:
            return op
        op.detail["enrollment_id"] = enrollment["id"]
        result = self._send(
            client,
            op,
            "result",
            "training",
            "record_result",
            enrollment["id"],
            {"theory_score": 85, "practical_score": 92},
        )
        if result is None:
            return op
        op.detail["cert_no"] = (result.get("certificate") or {}).get("cert_no")
        return self._done(op)

    def _loan(self, client, veterans, stop):
        [veteran_id] = veterans
        product = self.setup["product"]
        op = Op(
            "loan", veteran_id, detail={"veteran_id": veteran_id, "product_code": product["code"]}
        )
        self._wait_known(client, "loans", "get_eligibility", veteran_id, stop)
        loan = self._send(
            client,
            op,
            "apply",
            "loans",
            "apply_loan",
            {
                "veteran_id": veteran_id,
                "product_code": product["code"],
                "amount": product["amount"],
                "term_months": product["term_months"],
                "purpose": "创业启动资金",
                "enterprise_id": None,
            },
        )
        if loan is None:
            return op
        op.detail["loan_id"] = loan["id"]
        if (
            self._send(
                client,
                op,
                "approve",
                "loans",
                "approve_loan",
                loan["id"],
                {"approved_amount": product["amount"]},
            )
            is None
        ):
            return op
        if (
            self._send(
                client,
                op,
                "disburse",
                "loans",
                "disburse_loan",
                loan["id"],
                {"disbursed_on": bureau_clock().today().isoformat()},
            )
            is None
        ):
            return op
        return self._done(op)


def plan(operations, rng):
    """The kinds of ``operations`` operations in the order they are taken: every kind at
    least once when there are six or more, the rest drawn by ``WEIGHTS``."""
    kinds = list(KINDS) if operations >= len(KINDS) else []
    kinds += rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=operations - len(kinds))
    rng.shuffle(kinds)
    return kinds
