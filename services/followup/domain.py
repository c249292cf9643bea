"""followup's records and rules, free of I/O: revisits, the issues they escalate and
contacts; overdue; outcomes as employment signals and retention; the events followup
publishes (what consumed events ask for: ``planning_domain.py``). A rule returns the change
and the events it causes, or raises ``InvalidInput``/``NotFound``/``Conflict``; ids and
times come from the caller."""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from shared.contracts import Event
from shared.contracts.followup import (
    CONTACT_RECORDED,
    ISSUE_ESCALATED,
    REVISIT_COMPLETED,
    REVISIT_DUE,
    REVISIT_SCHEDULED,
)
from shared.errors import Conflict, NotFound, invalid
from shared.months import label, series

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


# -- records ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Origin:
    """Who makes a record and when, with the id it gets."""

    id: str
    at: dt.datetime
    by: str


@dataclass(frozen=True, kw_only=True)
class Revisit:
    id: str
    veteran_id: str
    county_code: str
    kind: str  # employment | business
    cause_event_id: str
    cause_type: str
    due_on: dt.date
    status: str = "scheduled"  # scheduled | due | overdue | done
    due_at: dt.datetime | None = None
    contacted_on: dt.date | None = None
    outcome: str | None = None
    veteran_satisfaction: int | None = None
    employer_rating: int | None = None
    completed_at: dt.datetime | None = None
    completed_by: str | None = None
    created_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class Issue:
    """A problem raised at a revisit, escalated to the department for its category."""

    id: str
    revisit_id: str
    veteran_id: str
    county_code: str
    category: str
    department: str
    description: str
    status: str = "open"  # open | resolved
    resolution: str | None = None
    raised_at: dt.datetime
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None


@dataclass(frozen=True)
class Contact:
    id: str
    veteran_id: str | None
    county_code: str
    channel: str
    topic: str
    notes: str | None
    recorded_at: dt.datetime
    recorded_by: str


@dataclass(frozen=True)
class Hire:
    """jobs' ``veteran_hired``, kept for retention."""

    veteran_id: str
    event_id: str
    county_code: str
    started_on: dt.date


@dataclass(frozen=True)
class StatusChange:
    """registry's ``employment_status_changed``, kept for retention."""

    veteran_id: str
    event_id: str
    on_day: dt.date
    current: str


# -- revisits and issues ------------------------------------------------------------------
def overdue_before(today: dt.date, grace_days: int) -> dt.date:
    """Revisits not done whose day is before this one are overdue on ``today``."""
    return today - dt.timedelta(days=grace_days)


def is_overdue(due_on: dt.date, today: dt.date, grace_days: int) -> bool:
    return due_on < overdue_before(today, grace_days)


def complete(
    revisit: Revisit,
    command: Mapping[str, Any],
    departments: Mapping[str, str],
    today: dt.date,
    now: dt.datetime,
    by: str,
    new_id: Callable[[], str],
) -> tuple[Revisit, list[Issue], list[Event]]:
    """A revisit done, once, on a day not in the future (it may be before the revisit's
    own day): ``revisit_completed``, and each problem raised an issue routed by its
    category to ``departments[category]`` (``issue_escalated``); ``new_id()`` gives each
    issue its id."""
    if revisit.status == "done":
        raise Conflict("the revisit is done already", {"revisit_id": revisit.id})
    if command["contacted_on"] > today:
        raise invalid({"contacted_on": ["is in the future"]})
    done = replace(
        revisit,
        status="done",
        contacted_on=command["contacted_on"],
        outcome=command["outcome"],
        veteran_satisfaction=command["veteran_satisfaction"],
        employer_rating=command["employer_rating"],
        completed_at=now,
        completed_by=by,
    )
    issues = [
        Issue(
            id=new_id(),
            revisit_id=revisit.id,
            veteran_id=revisit.veteran_id,
            county_code=revisit.county_code,
            category=problem["category"],
            department=departments[problem["category"]],
            description=problem["description"],
            raised_at=now,
        )
        for problem in command["problems"]
    ]
    return done, issues, [completed_event(done), *map(escalated_event, issues)]


def resolve(issue: Issue, resolution: str, now: dt.datetime, by: str) -> Issue:
    if issue.status == "resolved":
        raise Conflict("the issue is resolved already", {"issue_id": issue.id})
    return replace(issue, status="resolved", resolution=resolution, resolved_at=now, resolved_by=by)


# -- contacts -----------------------------------------------------------------------------
def record_contact(
    command: Mapping[str, Any], veteran_county: str | None, origin: Origin
) -> tuple[Contact, list[Event]]:
    """A contact with a veteran belongs to the veteran's county (``veteran_county``: as
    followup knows it and the caller may see it, else None), and lands on their card. A
    veteran followup has not heard of is refused rather than filed under a county the
    operator names: it could be another county's card. Without a veteran, the county is
    the one named (which must be the caller's: the service checks)."""
    veteran_id = str(command["veteran_id"]) if command["veteran_id"] else None
    if veteran_id is not None:
        if veteran_county is None:
            raise NotFound(
                f"followup has no veteran {veteran_id} (registered veterans "
                "reach followup through registry's events)"
            )
        county = veteran_county
    elif command["county_code"] is None:
        raise invalid({"county_code": ["is required when no veteran_id is given"]})
    else:
        county = command["county_code"]
    contact = Contact(
        id=origin.id,
        veteran_id=veteran_id,
        county_code=county,
        channel=command["channel"],
        topic=command["topic"],
        notes=command["notes"],
        recorded_at=origin.at,
        recorded_by=origin.by,
    )
    return contact, [contact_event(contact)]


# -- retention and statistics -------------------------------------------------------------
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


def retention_by_month(hires, signals_by_veteran, today, months, days=90):
    """``{month: {hires_judged, retained, retention_90}}`` for every month of ``months``:
    the hires whose ``days``-day mark fell in that month (and is not after ``today``), how
    many of them still worked on that day (``employed_at``, as ``retention`` judges) and
    the share (None for a month with no such hire)."""
    rows: dict[str, dict] = {}
    for veteran_id, started_on in hires:
        mark = started_on + dt.timedelta(days=days)
        if mark > today:
            continue
        row = rows.setdefault(label(mark), {"hires_judged": 0, "retained": 0})
        row["hires_judged"] += 1
        row["retained"] += employed_at(started_on, mark, signals_by_veteran.get(veteran_id, ()))
    for row in rows.values():
        row[f"retention_{days}"] = round(row["retained"] / row["hires_judged"], 4)
    return series(months, rows, {"hires_judged": 0, "retained": 0, f"retention_{days}": None})


def by_month(retention_rows, revisit_rows, months):
    """The monthly series of the statistics: retention (``retention_by_month``) beside the
    revisits done each month and their average satisfaction (``revisit_rows``: {month:
    {revisits_done, satisfaction}} from the store; None when no score was given)."""
    revisits = series(months, revisit_rows, {"revisits_done": 0, "satisfaction": None})
    return {
        month: {
            **retention_rows[month],
            "revisits_done": int(revisits[month]["revisits_done"]),
            "satisfaction": _average(revisits[month]["satisfaction"]),
        }
        for month in months
    }


def _average(value):
    return None if value is None else round(float(value), 2)


def figures(revisits, issues, contacts):
    """The counts the store gives (``revisits``: scheduled, done, due, overdue and the
    average scores; ``issues``: {category: {open, resolved}}; ``contacts``: {channel: n})
    as the statistics report them: every category and channel, zero when none."""
    return {
        "revisits": {k: int(revisits[k]) for k in ("scheduled", "done", "due", "overdue")},
        "average_satisfaction": _average(revisits["satisfaction"]),
        "average_employer_rating": _average(revisits["employer_rating"]),
        "issues": {c: issues.get(c, {"open": 0, "resolved": 0}) for c in CATEGORIES},
        "contacts": {
            "total": sum(contacts.values()),
            "by_channel": {c: contacts.get(c, 0) for c in CHANNELS},
        },
    }


# -- events -------------------------------------------------------------------------------
def scheduled_event(revisit: Revisit) -> Event:
    return Event(
        REVISIT_SCHEDULED,
        {
            "revisit_id": revisit.id,
            "veteran_id": revisit.veteran_id,
            "kind": revisit.kind,
            "due_on": revisit.due_on,
        },
    )


def due_event(revisit: Revisit) -> Event:
    return Event(
        REVISIT_DUE,
        {
            "revisit_id": revisit.id,
            "veteran_id": revisit.veteran_id,
            "county_code": revisit.county_code,
            "due_on": revisit.due_on,
        },
    )


def completed_event(revisit: Revisit) -> Event:
    return Event(
        REVISIT_COMPLETED,
        {
            "revisit_id": revisit.id,
            "veteran_id": revisit.veteran_id,
            "outcome": revisit.outcome,
            "satisfaction": revisit.veteran_satisfaction,
        },
    )


def escalated_event(issue: Issue) -> Event:
    return Event(
        ISSUE_ESCALATED,
        {
            "issue_id": issue.id,
            "veteran_id": issue.veteran_id,
            "category": issue.category,
            "department": issue.department,
        },
    )


def contact_event(contact: Contact) -> Event:
    return Event(
        CONTACT_RECORDED,
        {
            "contact_id": contact.id,
            "veteran_id": contact.veteran_id,
            "channel": contact.channel,
            "topic": contact.topic,
        },
    )
