"""followup's rules, free of I/O: what each consumed event asks for, revisit dates,
overdue, outcomes as employment signals, and retention. The plans file is read by
``plans.py``; ids come from the caller."""

import datetime as dt
from dataclasses import dataclass, field, replace

from shared.contracts import Event
from shared.contracts.followup import (
    CONTACT_RECORDED,
    ISSUE_ESCALATED,
    REVISIT_COMPLETED,
    REVISIT_DUE,
    REVISIT_SCHEDULED,
)
from shared.contracts.jobs import VETERAN_HIRED
from shared.contracts.loans import LOAN_DISBURSED
from shared.contracts.registry import (
    EMPLOYMENT_STATUS_CHANGED,
    ENTERPRISE_REGISTERED,
    VETERAN_REGISTERED,
    VETERAN_UPDATED,
)

CATEGORIES = ("wages", "contract", "social_insurance", "skills", "housing", "family", "other")
OUTCOMES = (
    "employed_same",
    "employed_other",
    "left_job",
    "business_operating",
    "business_closed",
    "unreachable",
)
CHANNELS = ("phone", "wechat", "visit", "service_center", "hotline")
TOPICS = (
    "policy_consultation",
    "job_referral",
    "skills_training",
    "startup_loan",
    "startup_guidance",
    "legal_aid",
    "psychological_support",
    "complaint",
    "other",
)
# Signals that a veteran works (an outcome or a status) or does not.
WORKING_STATUSES = {"employed", "self_employed", "flexible", "public_welfare_post"}
WORKING_OUTCOMES = {"employed_same", "employed_other", "business_operating"}
NOT_WORKING_OUTCOMES = {"left_job", "business_closed"}


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
    hires: list = field(default_factory=list)  # (veteran_id, event_id, county, started_on)
    changes: list = field(default_factory=list)  # (veteran_id, event_id, day, current)
    wanted: list = field(default_factory=list)  # [Wanted]


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
                (data["veteran_id"], event.event_id, event_day(at, tz), data["current"])
            )
        elif event.type == VETERAN_HIRED:
            facts.hires.append(
                (data["veteran_id"], event.event_id, data["county_code"], data["started_on"])
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


def revisit_rows(ready, plans, now, new_id):
    """One row per revisit of each placed plan, on the days its kind's plan lists;
    ``new_id()`` gives each row its id."""
    return [
        {
            "id": new_id(),
            "veteran_id": want.veteran_id,
            "county_code": want.county_code,
            "kind": want.kind,
            "cause_event_id": want.cause_event_id,
            "cause_type": want.cause_type,
            "due_on": due_on,
            "created_at": now,
        }
        for want in ready
        for due_on in plan(want.starts_on, plans[want.kind])
    ]


def is_overdue(due_on, today, grace_days):
    return today > due_on + dt.timedelta(days=grace_days)


def is_working(status=None, outcome=None):
    """An employment status or a revisit outcome as a signal: True (works), False (does
    not) or None (an outcome that says nothing: ``unreachable``). Every status says
    something: only the working ones (employed, self-employed, flexible, public-welfare
    post) count as working."""
    if outcome is not None:
        return (
            True
            if outcome in WORKING_OUTCOMES
            else (False if outcome in NOT_WORKING_OUTCOMES else None)
        )
    return status in WORKING_STATUSES


def signals(changes, outcomes):
    """Per veteran, the dated ``(day, working?)`` signals from registry's status changes
    ``[(veteran_id, day, status)]`` and revisit outcomes ``[(veteran_id, contacted_on,
    outcome)]``."""
    out: dict[str, list[tuple[dt.date, bool]]] = {}
    for veteran_id, day, status in changes:
        out.setdefault(veteran_id, []).append((day, is_working(status=status)))
    for veteran_id, day, outcome in outcomes:
        working = is_working(outcome=outcome)
        if working is not None:
            out.setdefault(veteran_id, []).append((day, working))
    return out


def employed_at(started_on, day, signals):
    """Whether a veteran hired on ``started_on`` still worked on ``day``: the latest signal
    (``(date, working?)`` from status changes and revisit outcomes) on or before ``day``
    decides; none since the hire means still employed."""
    relevant = [(when, working) for when, working in signals if started_on <= when <= day]
    return max(relevant)[1] if relevant else True


def continuously_employed(started_on, days, signals):
    """No sign of not working from the hire through ``days`` later (the US VA's
    "rehabilitated" rule counts 60 continuous days)."""
    end = started_on + dt.timedelta(days=days)
    return not any(started_on <= when <= end and not working for when, working in signals)


def retention(hires, signals_by_veteran, today):
    """``hires``: [(veteran_id, started_on)] → the share still employed at 90 and 180 days
    and employed 60 continuous days, each over the hires old enough to judge."""
    out = {}
    for key, days, judge in (
        ("day_90", 90, "point"),
        ("day_180", 180, "point"),
        ("continuous_60", 60, "span"),
    ):
        judged = [(v, s) for v, s in hires if s + dt.timedelta(days=days) <= today]
        kept = 0
        for veteran_id, started_on in judged:
            signals = signals_by_veteran.get(veteran_id, ())
            if judge == "point":
                kept += employed_at(started_on, started_on + dt.timedelta(days=days), signals)
            else:
                kept += continuously_employed(started_on, days, signals)
        out[key] = {
            "hires": len(judged),
            "retained": kept,
            "rate": round(kept / len(judged), 4) if judged else None,
        }
    return out


def scheduled_event(revisit):
    return Event(
        REVISIT_SCHEDULED,
        {
            "revisit_id": revisit["id"],
            "veteran_id": revisit["veteran_id"],
            "kind": revisit["kind"],
            "due_on": revisit["due_on"],
        },
    )


def due_event(row):
    return Event(
        REVISIT_DUE,
        {
            "revisit_id": str(row["id"]),
            "veteran_id": str(row["veteran_id"]),
            "county_code": row["county_code"],
            "due_on": row["due_on"],
        },
    )


def completed_event(revisit, outcome, satisfaction):
    return Event(
        REVISIT_COMPLETED,
        {
            "revisit_id": str(revisit["id"]),
            "veteran_id": str(revisit["veteran_id"]),
            "outcome": outcome,
            "satisfaction": satisfaction,
        },
    )


def escalated_event(issue):
    return Event(
        ISSUE_ESCALATED,
        {
            "issue_id": issue["id"],
            "veteran_id": issue["veteran_id"],
            "category": issue["category"],
            "department": issue["department"],
        },
    )


def contact_event(contact):
    return Event(
        CONTACT_RECORDED,
        {
            "contact_id": contact["id"],
            "veteran_id": contact["veteran_id"],
            "channel": contact["channel"],
            "topic": contact["topic"],
        },
    )
