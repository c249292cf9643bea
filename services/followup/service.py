"""followup: revisit plans after a hire, a loan or a new business (扶人上马，再送一程), the
durable scheduler that makes them due, the revisits themselves with the problems they
escalate, contacts, and retention."""

import datetime as dt
import uuid

import structlog

from services.followup import domain, schemas
from services.followup.plans import Plans
from services.followup.scheduler import SchedulerSettings, scheduler_timer
from services.followup.store import FollowupStore
from shared.auth import READ, STATS, WRITE
from shared.contracts.jobs import VETERAN_HIRED
from shared.contracts.loans import LOAN_DISBURSED
from shared.contracts.registry import (
    EMPLOYMENT_STATUS_CHANGED,
    ENTERPRISE_REGISTERED,
    VETERAN_REGISTERED,
    VETERAN_UPDATED,
)
from shared.db import Database
from shared.errors import Conflict, NotFound
from shared.messaging import batch_event_handler, rpc
from shared.replies import plain
from shared.service import ServiceBase
from shared.validation import invalid, load, load_page, parse_uuid

log = structlog.get_logger(__name__)
# The overdue sweep changes at most this many batches' worth of rows per tick.
OVERDUE_SWEEP_BATCHES = 10


class FollowupService(ServiceBase):
    name = "followup"
    store = Database(FollowupStore)
    plans = Plans()
    scheduler = SchedulerSettings()

    # -- plans from events ----------------------------------------------------------------
    # One queue for every event followup consumes, so a veteran's registration is taken
    # ahead of a loan that follows it; plans are inserted in the same transaction as the
    # inbox rows of the events that cause them, so a redelivered event never plans twice
    # (the table's unique key is a second guard).
    @batch_event_handler(
        "jobs",
        VETERAN_HIRED,
        also=[
            ("loans", LOAN_DISBURSED),
            ("registry", ENTERPRISE_REGISTERED),
            ("registry", VETERAN_REGISTERED),
            ("registry", VETERAN_UPDATED),
            ("registry", EMPLOYMENT_STATUS_CHANGED),
        ],
    )
    def on_events(self, events):
        now, facts = self.clock.now(), domain.read_events(events, self.clock.tz)
        self.store.save_veterans(facts.counties, now)
        self.store.save_enterprises(facts.enterprises, now)
        self.store.add_hires(facts.hires)
        self.store.add_status_changes(facts.changes)
        unplaced = [w for w in facts.wanted if w.county_code is None]
        ready, waiting = domain.place(
            facts.wanted,
            self.store.counties_of({w.veteran_id for w in unplaced}),
            self.store.enterprise_counties({w.enterprise_id for w in unplaced}),
        )
        self.store.park(waiting, now)
        for want in waiting:
            log.warning(
                "followup.plan_waiting_for_county",
                veteran_id=want.veteran_id,
                cause_event_id=want.cause_event_id,
                type=want.cause_type,
            )
        ready += self.store.unpark(set(facts.counties))
        rows = domain.revisit_rows(ready, self.plans["plans"], now, new_id)
        planned = self.store.add_revisits(rows)
        self.store.emit(*[domain.scheduled_event(row) for row in planned])
        if planned:
            log.info("followup.planned", revisits=len(planned))

    # -- the scheduler --------------------------------------------------------------------
    @scheduler_timer
    def run_scheduler(self):
        """Revisits whose day has come become due (``revisit_due``, once each), and due
        ones past the grace period overdue. Claimed with SKIP LOCKED and a lease, so
        instances never take the same revisit, and a crashed one's claims return after
        the lease. → how many became due (a full batch makes the timer tick again at
        once)."""
        settings = self.scheduler
        today, now = self.clock.today(), self.clock.now()
        ids = self.store.claim_due(
            settings.instance, today, now, settings.lease_seconds, settings.batch
        )
        became_due = self.store.mark_due(settings.instance, ids, now) if ids else []
        self.store.emit(*[domain.due_event(row) for row in became_due])
        overdue = self.store.mark_overdue(
            today - dt.timedelta(days=self.plans["grace_days"]),
            settings.batch * OVERDUE_SWEEP_BATCHES,
        )
        if became_due or overdue:
            log.info("followup.scheduler", due=len(became_due), overdue=overdue, claimed=len(ids))
        return len(became_due)

    # -- doing revisits -------------------------------------------------------------------
    @rpc(roles=READ)
    def worklist(self, county_code, as_of=None):
        """Revisits not done whose day has come by ``as_of`` (default today), oldest
        first, each marked overdue or not."""
        query = load(schemas.WORKLIST_INPUT, {"county_code": county_code, "as_of": as_of})
        self.auth.require_county(query["county_code"])
        as_of = query["as_of"] or self.clock.today()
        return [
            {
                **plain(row),
                "overdue": domain.is_overdue(row["due_on"], as_of, self.plans["grace_days"]),
            }
            for row in self.store.worklist(query["county_code"], as_of)
        ]

    @rpc(roles=READ, sensitive_arguments=("filters",))
    def list_revisits(self, filters=None, page=1, page_size=50):
        query = load(schemas.FILTERS_INPUT, filters or {})
        page, size = load_page(page, page_size)
        if query["county_code"] is not None:
            self.auth.require_county(query["county_code"])
        total, rows = self.store.revisits(query, self.auth.scope(), size, (page - 1) * size)
        return {
            "items": [plain(row) for row in rows],
            "total": total,
            "page": page,
            "page_size": size,
        }

    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def complete_revisit(self, revisit_id, data):
        """Records a revisit; each problem raised becomes an issue escalated to the
        department for its category. Twice is ``Conflict``."""
        command = load(schemas.COMPLETE_INPUT, data)
        revisit = self.store.get_revisit(parse_uuid(revisit_id, "revisit_id"), lock=True)
        if revisit is None or not self.auth.may_see(revisit["county_code"]):
            raise NotFound(f"no revisit {revisit_id}")
        if revisit["status"] == "done":
            raise Conflict("the revisit is done already", {"revisit_id": str(revisit["id"])})
        if command["contacted_on"] > self.clock.today():
            raise invalid({"contacted_on": ["is in the future"]})
        now, operator = self.clock.now(), self.auth.operator
        self.store.complete(revisit["id"], command, now, operator.id)
        self.store.emit(
            domain.completed_event(revisit, command["outcome"], command["veteran_satisfaction"])
        )
        issues = []
        for problem in command["problems"]:
            issue = {
                "id": str(uuid.uuid4()),
                "revisit_id": str(revisit["id"]),
                "veteran_id": str(revisit["veteran_id"]),
                "county_code": revisit["county_code"],
                "category": problem["category"],
                "department": self.plans["departments"][problem["category"]],
                "description": problem["description"],
                "raised_at": now,
            }
            self.store.add_issue(issue)
            self.store.emit(domain.escalated_event(issue))
            issues.append({k: issue[k] for k in ("id", "category", "department")})
        log.info(
            "followup.revisit_done",
            revisit_id=str(revisit["id"]),
            outcome=command["outcome"],
            issues=len(issues),
            operator_id=operator.id,
        )
        return {**plain(self.store.get_revisit(revisit["id"])), "issues": issues}

    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def resolve_issue(self, issue_id, data):
        command = load(schemas.RESOLVE_INPUT, data)
        issue = self.store.get_issue(parse_uuid(issue_id, "issue_id"), lock=True)
        if issue is None or not self.auth.may_see(issue["county_code"]):
            raise NotFound(f"no issue {issue_id}")
        if issue["status"] == "resolved":
            raise Conflict("the issue is resolved already", {"issue_id": str(issue["id"])})
        self.store.resolve(
            issue["id"], command["resolution"], self.clock.now(), self.auth.operator.id
        )
        return plain(self.store.get_issue(issue["id"]))

    # -- contacts -------------------------------------------------------------------------
    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def record_contact(self, data):
        """A consultation or other contact (phone, WeChat, visit, service centre, hotline),
        with a veteran of the caller's counties that followup knows, or with anyone (then
        name the county)."""
        command = load(schemas.CONTACT_INPUT, data)
        veteran_id = str(command["veteran_id"]) if command["veteran_id"] else None
        if veteran_id is not None:
            # A veteran's contact belongs to the veteran's county, and lands on their card.
            # One followup has not heard of yet is refused rather than filed under the
            # county the operator names: it could be another county's card. One outside
            # the caller's counties is answered alike.
            county = self.store.counties_of([veteran_id]).get(veteran_id)
            if county is None or not self.auth.may_see(county):
                raise NotFound(
                    f"followup has no veteran {veteran_id} (registered veterans "
                    "reach followup through registry's events)"
                )
        else:
            county = command["county_code"]
            if county is None:
                raise invalid({"county_code": ["is required when no veteran_id is given"]})
            self.auth.require_county(county)
        contact = {
            "id": str(uuid.uuid4()),
            "veteran_id": veteran_id,
            "county_code": county,
            "channel": command["channel"],
            "topic": command["topic"],
            "notes": command["notes"],
            "recorded_at": self.clock.now(),
            "recorded_by": self.auth.operator.id,
        }
        self.store.add_contact(contact)
        self.store.emit(domain.contact_event(contact))
        return plain(contact, drop=("recorded_by", "notes"))

    # -- retention and statistics ---------------------------------------------------------
    @rpc(roles=STATS)
    def retention(self, county_code=None):
        """Of veterans hired, the share still employed at 90 and 180 days and employed
        60 continuous days, with the counts behind each rate."""
        county_code, counties, _ = self.stats_scope(county_code)
        return {"county_code": county_code, **self._retention(counties)}

    def _retention(self, counties):
        hires, changes, outcomes = self.store.retention_inputs(counties)
        return domain.retention(hires, domain.signals(changes, outcomes), self.clock.today())

    @rpc(roles=STATS)
    def stats(self, county_code=None):
        county_code, counties, listed = self.stats_scope(county_code)
        today = self.clock.today()
        revisits, issues, contacts = self.store.stats(
            counties, today, today - dt.timedelta(days=self.plans["grace_days"])
        )
        satisfaction = revisits.pop("satisfaction")
        rating = revisits.pop("employer_rating")
        return {
            "county_code": county_code,
            "counties": listed,
            "revisits": {k: int(v) for k, v in revisits.items()},
            "average_satisfaction": None if satisfaction is None else round(float(satisfaction), 2),
            "average_employer_rating": None if rating is None else round(float(rating), 2),
            "issues": {c: issues.get(c, {"open": 0, "resolved": 0}) for c in domain.CATEGORIES},
            "contacts": {
                "total": sum(contacts.values()),
                "by_channel": {c: contacts.get(c, 0) for c in domain.CHANNELS},
            },
            "retention": self._retention(counties),
        }

    def health_details(self):
        return {
            "scheduler_instance": self.scheduler.instance,
            "plans_waiting_for_county": self.store.waiting(),
        }


def new_id():
    return str(uuid.uuid4())
