"""What the events followup consumes tell it, free of I/O: veterans' and enterprises'
counties, hires and status changes for retention, and the revisit plans a hire, a loan or a
new business asks for, placed in a county and laid out as revisits (ids from the caller)."""

import datetime as dt
from dataclasses import dataclass, field, replace

from services.followup.domain import Hire, Revisit, StatusChange
from shared.contracts.jobs import VETERAN_HIRED
from shared.contracts.loans import LOAN_DISBURSED
from shared.contracts.registry import (
    EMPLOYMENT_STATUS_CHANGED,
    ENTERPRISE_REGISTERED,
    VETERAN_REGISTERED,
    VETERAN_UPDATED,
)


def plan(start, days):
    return [start + dt.timedelta(days=d) for d in sorted(set(days))]


def event_day(occurred_at, tz):
    """The day an event happened on the bureau's calendar (``tz``: the clock's zone)."""
    if not isinstance(occurred_at, dt.datetime):
        occurred_at = dt.datetime.fromisoformat(str(occurred_at))
    return occurred_at.astimezone(tz).date()


def event_time(occurred_at):
    if isinstance(occurred_at, dt.datetime):
        return occurred_at
    return dt.datetime.fromisoformat(str(occurred_at))


@dataclass(frozen=True)
class Wanted:
    """A plan an event asks for: revisits of ``kind`` counted from ``starts_on``.
    ``county_code`` is None until followup knows where the revisits belong."""

    cause_event_id: str
    cause_type: str
    veteran_id: str
    kind: str
    starts_on: dt.date
    county_code: str | None = None
    enterprise_id: str | None = None


@dataclass
class Facts:
    """What a batch of consumed events tells followup."""

    counties: dict = field(default_factory=dict)  # veteran_id → (county_code, as of)
    enterprises: dict = field(default_factory=dict)  # enterprise_id → county_code
    hires: list[Hire] = field(default_factory=list)
    changes: list[StatusChange] = field(default_factory=list)
    wanted: list[Wanted] = field(default_factory=list)


def _newer(counties, veteran_id, county_code, at):
    if county_code and (veteran_id not in counties or counties[veteran_id][1] <= at):
        counties[veteran_id] = (county_code, at)


def read_events(events, tz):
    """Sorts a batch of received events into the projections and the plans they ask for.

    - ``veteran_hired``: employment revisits from ``started_on``, in the hire's county.
    - ``enterprise_registered``: business revisits for each founder from the day it was
      registered, in the enterprise's county (not from ``founded_on``: the ledger also
      takes businesses founded years ago, whose every revisit would be overdue at once).
    - ``loan_disbursed``: business revisits from ``disbursed_on`` when the event carries
      it, else the day it happened; the county is found later (``place``).
    - registry's veteran events (and a status change naming a county) keep the
      veteran's county; status changes feed retention.

    "The day it happened" is the bureau's day, in ``tz`` (the clock's zone)."""
    facts = Facts()
    for event in events:
        data, at = event.data, event_time(event.occurred_at)
        if event.type in (VETERAN_REGISTERED, VETERAN_UPDATED):
            snapshot = data if event.type == VETERAN_REGISTERED else data["snapshot"]
            _newer(facts.counties, snapshot["veteran_id"], snapshot["county_code"], at)
        elif event.type == EMPLOYMENT_STATUS_CHANGED:
            _newer(facts.counties, data["veteran_id"], data.get("county_code"), at)
            facts.changes.append(
                StatusChange(data["veteran_id"], event.event_id, event_day(at, tz), data["current"])
            )
        elif event.type == VETERAN_HIRED:
            facts.hires.append(
                Hire(data["veteran_id"], event.event_id, data["county_code"], data["started_on"])
            )
            facts.wanted.append(
                Wanted(
                    event.event_id,
                    event.type,
                    data["veteran_id"],
                    "employment",
                    data["started_on"],
                    data["county_code"],
                )
            )
        elif event.type == LOAN_DISBURSED:
            facts.wanted.append(
                Wanted(
                    event.event_id,
                    event.type,
                    data["veteran_id"],
                    "business",
                    data.get("disbursed_on") or event_day(at, tz),
                    enterprise_id=data.get("enterprise_id"),
                )
            )
        elif event.type == ENTERPRISE_REGISTERED:
            facts.enterprises[data["enterprise_id"]] = data["county_code"]
            facts.wanted += [
                Wanted(
                    event.event_id,
                    event.type,
                    founder,
                    "business",
                    event_day(at, tz),
                    data["county_code"],
                )
                for founder in dict.fromkeys(data["founder_ids"])
            ]
    return facts


def place(wanted, veteran_counties, enterprise_counties):
    """Gives each plan its county: its own (a hire's, an enterprise's), else for a loan
    the county of the enterprise it names, else the veteran's. → (ready, waiting): plans
    whose veteran followup has not heard of wait for registry's event about them."""
    ready, waiting = [], []
    for want in wanted:
        county = (
            want.county_code
            or enterprise_counties.get(want.enterprise_id)
            or veteran_counties.get(want.veteran_id)
        )
        if county is None:
            waiting.append(want)
        else:
            ready.append(replace(want, county_code=county))
    return ready, waiting


def unplaced(wanted):
    """The veterans and enterprises whose counties followup must look up for the plans
    that do not know their county yet."""
    waiting = [want for want in wanted if want.county_code is None]
    return {w.veteran_id for w in waiting}, {w.enterprise_id for w in waiting}


def new_revisits(ready, plans, now, new_id) -> list[Revisit]:
    """One revisit of each placed plan on each day its kind's plan lists; ``new_id()``
    gives each its id."""
    return [
        Revisit(
            id=new_id(),
            veteran_id=want.veteran_id,
            county_code=want.county_code,
            kind=want.kind,
            cause_event_id=want.cause_event_id,
            cause_type=want.cause_type,
            due_on=due_on,
            created_at=now,
        )
        for want in ready
        for due_on in plan(want.starts_on, plans[want.kind])
    ]
