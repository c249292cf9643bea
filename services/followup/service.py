"""followup: revisit plans after a hire, a loan or a new business (扶人上马，再送一程), the
durable scheduler that makes them due, the revisits themselves with the problems they
escalate, contacts, and retention. Each entrypoint loads, asks ``domain`` (or
``planning_domain``) for the change and its events, and hands them to the store."""

import uuid

import structlog

from services.followup import domain, planning_domain, schemas
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
from shared.errors import NotFound
from shared.messaging import batch_event_handler, rpc
from shared.months import ends, last_months, start, zone_name
from shared.records import as_dict
from shared.replies import plain
from shared.service import ServiceBase
from shared.validation import load, load_page, parse_uuid

log = structlog.get_logger(__name__)
# What a revisit's reply leaves out: where its plan came from, when it was made, and who
# did it (for the audit); an issue's reply also leaves out the problem as told.
REVISIT_HIDDEN = ("cause_event_id", "created_at", "completed_by")
ISSUE_HIDDEN = ("description", "resolved_by")
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
        now, facts = self.clock.now(), planning_domain.read_events(events, self.clock.tz)
        self.store.save_veterans(facts.counties, now)
        self.store.save_enterprises(facts.enterprises, now)
        self.store.add_hires(facts.hires)
        self.store.add_status_changes(facts.changes)
        veteran_ids, enterprise_ids = planning_domain.unplaced(facts.wanted)
        ready, waiting = planning_domain.place(
            facts.wanted,
            self.store.counties_of(veteran_ids),
            self.store.enterprise_counties(enterprise_ids),
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
        revisits = planning_domain.new_revisits(ready, self.plans["plans"], now, new_id)
        planned = self.store.add_revisits(revisits)
        self.store.emit(*map(domain.scheduled_event, planned))
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
        became_due = self.store.mark_due(settings.instance, ids, now)
        self.store.emit(*map(domain.due_event, became_due))
        overdue = self.store.mark_overdue(
            domain.overdue_before(today, self.plans["grace_days"]),
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
                **reply(revisit, REVISIT_HIDDEN),
                "overdue": domain.is_overdue(revisit.due_on, as_of, self.plans["grace_days"]),
            }
            for revisit in self.store.worklist(query["county_code"], as_of)
        ]

    @rpc(roles=READ, sensitive_arguments=("filters",))
    def list_revisits(self, filters=None, page=1, page_size=50):
        query = load(schemas.FILTERS_INPUT, filters or {})
        page, size = load_page(page, page_size)
        if query["county_code"] is not None:
            self.auth.require_county(query["county_code"])
        total, revisits = self.store.revisits(query, self.auth.scope(), size, (page - 1) * size)
        return {
            "items": [reply(revisit, REVISIT_HIDDEN) for revisit in revisits],
            "total": total,
            "page": page,
            "page_size": size,
        }

    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def complete_revisit(self, revisit_id, data):
        """Records a revisit; each problem raised becomes an issue escalated to the
        department for its category. Twice is ``Conflict``."""
        command = load(schemas.COMPLETE_INPUT, data)
        revisit = self._revisit(revisit_id)
        operator = self.auth.operator
        done, issues, events = domain.complete(
            revisit,
            command,
            self.plans["departments"],
            self.clock.today(),
            self.clock.now(),
            operator.id,
            new_id,
        )
        self.store.save_completion(done)
        self.store.add_issues(issues)
        self.store.emit(*events)
        log.info(
            "followup.revisit_done",
            revisit_id=done.id,
            outcome=done.outcome,
            issues=len(issues),
            operator_id=operator.id,
        )
        return {
            **reply(self.store.revisit(done.id), REVISIT_HIDDEN),  # as stored
            "issues": [
                {"id": issue.id, "category": issue.category, "department": issue.department}
                for issue in issues
            ],
        }

    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def resolve_issue(self, issue_id, data):
        command = load(schemas.RESOLVE_INPUT, data)
        issue = self.store.issue(parse_uuid(issue_id, "issue_id"), lock=True)
        if issue is None or not self.auth.may_see(issue.county_code):
            raise NotFound(f"no issue {issue_id}")
        resolved = domain.resolve(
            issue, command["resolution"], self.clock.now(), self.auth.operator.id
        )
        self.store.save_resolution(resolved)
        return reply(self.store.issue(resolved.id), ISSUE_HIDDEN)  # as stored

    # -- contacts -------------------------------------------------------------------------
    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def record_contact(self, data):
        """A consultation or other contact (phone, WeChat, visit, service centre, hotline),
        with a veteran of the caller's counties that followup knows, or with anyone (then
        name the county)."""
        command = load(schemas.CONTACT_INPUT, data)
        contact, events = domain.record_contact(
            command, self._visible_county(command["veteran_id"]), self._origin()
        )
        # A county named must be the caller's (a veteran's is, or it was not visible).
        self.auth.require_county(contact.county_code)
        self.store.add_contact(contact)
        self.store.emit(*events)
        return reply(contact, ("recorded_by", "notes"))

    # -- retention and statistics ---------------------------------------------------------
    @rpc(roles=STATS)
    def retention(self, county_code=None):
        """Of veterans hired, the share still employed at 90 and 180 days and employed
        60 continuous days, with the counts behind each rate."""
        county_code, counties, _ = self.stats_scope(county_code)
        hires, signals = self._retention_inputs(counties)
        return {
            "county_code": county_code,
            **domain.retention(hires, signals, self.clock.today()),
        }

    def _retention_inputs(self, counties):
        hires, changes, outcomes = self.store.retention_inputs(counties)
        return hires, domain.signals(changes, outcomes)

    @rpc(roles=STATS)
    def stats(self, county_code=None):
        county_code, counties, listed = self.stats_scope(county_code)
        today = self.clock.today()
        revisits, issues, contacts = self.store.stats(
            counties, today, domain.overdue_before(today, self.plans["grace_days"])
        )
        hires, signals = self._retention_inputs(counties)
        months = last_months(today)
        by_month = self.store.revisits_by_month(
            counties,
            start(months[0], self.clock.tz),
            ends(months, self.clock.tz)[-1],
            zone_name(self.clock.tz),
        )
        return {
            "county_code": county_code,
            "counties": listed,
            **domain.figures(revisits, issues, contacts),
            "retention": domain.retention(hires, signals, today),
            "by_month": domain.by_month(
                domain.retention_by_month(hires, signals, today, months), by_month, months
            ),
        }

    def health_details(self):
        return {
            "scheduler_instance": self.scheduler.instance,
            "plans_waiting_for_county": self.store.waiting(),
        }

    # -- helpers --------------------------------------------------------------------------
    def _origin(self):
        return domain.Origin(new_id(), self.clock.now(), self.auth.operator.id)

    def _revisit(self, revisit_id) -> domain.Revisit:
        """The revisit, locked for the change, or ``NotFound``: another county's is
        answered as a missing one."""
        revisit = self.store.revisit(parse_uuid(revisit_id, "revisit_id"), lock=True)
        if revisit is None or not self.auth.may_see(revisit.county_code):
            raise NotFound(f"no revisit {revisit_id}")
        return revisit

    def _visible_county(self, veteran_id) -> str | None:
        """The county of a veteran followup knows and the caller may see, else None (one
        outside the caller's counties is answered as an unknown one)."""
        if veteran_id is None:
            return None
        county = self.store.county_of(str(veteran_id))
        return county if county is not None and self.auth.may_see(county) else None


def reply(record, hidden=()):
    return plain(as_dict(record), drop=hidden)


def new_id():
    return str(uuid.uuid4())
