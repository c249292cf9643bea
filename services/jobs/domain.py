"""jobs' rules, free of I/O: its records (employers, postings, applications, hires),
what each command changes and the events it causes, and what replies look like. Functions
return the change and its events; they never write or publish. The veterans projection is in
projection_domain.py, fairs in fair_domain.py, the bureau's revisions in
bureau_domain.py."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from services.jobs.projection_domain import VeteranFacts
from shared.contracts import Event
from shared.contracts.jobs import APPLICATION_SUBMITTED, JOB_CLOSED, JOB_POSTED, VETERAN_HIRED
from shared.errors import Conflict, invalid
from shared.masks import mask_phone
from shared.records import as_dict
from shared.replies import plain

if TYPE_CHECKING:  # fair_domain imports this module
    from services.jobs.fair_domain import Fair

SOURCES = ("local", "fair", "bureau")
CHANNELS = ("self", "referral", "fair")
# Why a posting closes: a clerk's reasons, and the two it closes itself for.
CLOSE_REASONS_BY_CLERK = ("withdrawn", "filled_elsewhere", "cancelled")
FILLED, EXPIRED = "filled", "expired"
# A hire's start date is a real date near today, not a typo a decade away.
START_WINDOW = dt.timedelta(days=366)
# The hiring pipeline: submitted → interviewing → offered → hired | rejected | withdrawn.
MOVES = {
    "submitted": {"interviewing", "offered", "rejected", "withdrawn"},
    "interviewing": {"offered", "rejected", "withdrawn"},
    "offered": {"hired", "rejected", "withdrawn"},
    "hired": set(),
    "rejected": set(),
    "withdrawn": set(),
}
ADVANCE_TO = ("interviewing", "offered", "rejected", "withdrawn")  # hired: through hire()
FINAL = {"hired", "rejected", "withdrawn"}
# Employment intentions reached (达成就业意向): an offer made, or a hire.
INTENTION_REACHED = ("offered", "hired")
# Placements the bureau's summary counts apart (the seed's 辅警 and 村（社区）“两委”): hires
# into postings of these occupations (taxonomy codes), by the figure's key.
PLACEMENT_OCCUPATIONS = {
    "auxiliary_police_placements": "auxiliary_police",
    "village_cadre_placements": "village_cadre",
}


# -- records ------------------------------------------------------------------------------
@dataclass
class Employer:
    id: str
    name: str
    uscc: str | None
    county_code: str
    industry: str
    created_at: dt.datetime
    contact_name: str | None = None
    contact_phone: str | None = None
    federation_member: bool = False
    created_by: str | None = None


@dataclass
class Posting:
    id: str
    employer_id: str
    title: str
    occupation: str
    county_code: str
    salary_min: int
    salary_max: int
    openings: int
    closes_on: dt.date
    created_at: dt.datetime
    updated_at: dt.datetime
    skills_required: list[str] = field(default_factory=list)
    certificates_preferred: list[str] = field(default_factory=list)
    dedicated: bool = False
    source: str = "local"
    hired: int = 0
    status: str = "open"
    bureau_posting_id: str | None = None
    description: str | None = None
    closed_reason: str | None = None
    closed_at: dt.datetime | None = None
    bureau_version: int | None = None  # the bureau's revision (its postings only)
    created_by: str | None = None


@dataclass
class Application:
    id: str
    veteran_id: str
    posting_id: str
    county_code: str  # the veteran's: the office that serves them
    channel: str
    status: str
    submitted_at: dt.datetime
    updated_at: dt.datetime
    fair_id: str | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class Move:
    """One step of an application along the pipeline, kept as its history."""

    application_id: str
    at: dt.datetime
    from_status: str | None
    to_status: str
    note: str | None
    operator_id: str


@dataclass
class ApplicationListing:
    """An application as a veteran's list shows it: its posting, employer and hire terms."""

    application: Application
    title: str
    occupation: str
    employer_id: str
    employer_name: str
    started_on: dt.date | None = None
    salary: int | None = None


@dataclass
class Hire:
    application_id: str
    veteran_id: str
    posting_id: str
    employer_id: str
    county_code: str
    started_on: dt.date
    salary: int
    channel: str
    dedicated: bool
    hired_at: dt.datetime
    hired_by: str
    # Since issue 20: the terms an employer's tax relief turns on.
    contract_months: int | None = None
    social_insurance: bool = False
    insured_from: dt.date | None = None


# -- employers and postings ---------------------------------------------------------------
def new_employer(
    command: Mapping[str, Any], employer_id: str, now: dt.datetime, operator_id: str
) -> Employer:
    return Employer(id=employer_id, created_at=now, created_by=operator_id, **command)


def require_future_close(closes_on: dt.date, today: dt.date) -> None:
    if closes_on < today:
        raise invalid({"closes_on": ["is in the past"]})


def post(
    command: Mapping[str, Any],
    employer: Employer,
    source: str,
    posting_id: str,
    now: dt.datetime,
    today: dt.date,
    operator_id: str,
    bureau_posting_id: str | None = None,
    bureau_version: int | None = None,
) -> tuple[Posting, list[Event]]:
    """A new open posting of ``employer``; its closing date may be today, not before."""
    require_future_close(command["closes_on"], today)
    posting = Posting(
        id=posting_id,
        employer_id=employer.id,
        source=source,
        bureau_posting_id=bureau_posting_id,
        bureau_version=bureau_version,
        created_at=now,
        updated_at=now,
        created_by=operator_id,
        **command,
    )
    return posting, [posted_event(posting)]


def close(posting: Posting, reason: str) -> list[Event]:
    """A clerk closes an open posting; a closed one is a Conflict."""
    if posting.status != "open":
        raise Conflict(
            f"the posting is closed already ({posting.closed_reason})", {"posting_id": posting.id}
        )
    return [closed_event(posting.id, reason)]


def expired(posting_ids: Iterable[str]) -> list[Event]:
    return [closed_event(posting_id, EXPIRED) for posting_id in posting_ids]


def require_open(posting: Posting, today: dt.date) -> None:
    """A posting taking applications and hires: open, its date not passed, an opening left."""
    if posting.status != "open" or posting.closes_on < today:
        reason = posting.closed_reason or EXPIRED
        raise Conflict(f"the posting is closed ({reason})", {"posting_id": posting.id})
    if posting.hired >= posting.openings:
        raise Conflict("the posting has no opening left", {"posting_id": posting.id})


def filled(posting: Posting, hired: int, openings: int) -> list[Event]:
    """After an opening was taken: the last one closes the posting as filled."""
    return [closed_event(posting.id, FILLED)] if hired == openings else []


# -- applications and hires ---------------------------------------------------------------
def may_move(current, target):
    return target in MOVES.get(current, set())


def illegal_move(current, target):
    allowed = sorted(MOVES.get(current, set()))
    return f"an application that is {current} cannot become {target}" + (
        f"; it can become {', '.join(allowed)}" if allowed else "; it is final"
    )


def submit(
    veteran: VeteranFacts,
    posting: Posting,
    fair: "Fair | None",
    channel: str,
    application_id: str,
    now: dt.datetime,
    operator_id: str,
) -> tuple[Application, Move, list[Event]]:
    """An application to an open posting (``require_open`` first); through a fair that
    lists postings, the posting must be one of them."""
    if fair is not None and fair.posting_ids and posting.id not in fair.posting_ids:
        raise invalid({"posting_id": ["is not one of the fair's postings"]})
    application = Application(
        id=application_id,
        veteran_id=veteran.veteran_id,
        posting_id=posting.id,
        county_code=veteran.county_code,
        channel=channel,
        fair_id=fair.id if fair is not None else None,
        status="submitted",
        submitted_at=now,
        updated_at=now,
        created_by=operator_id,
    )
    entry = Move(application_id, now, None, "submitted", None, operator_id)
    return application, entry, [submitted_event(application)]


def move(
    application: Application, target: str, note: str | None, now: dt.datetime, operator_id: str
) -> tuple[Application, Move]:
    """The application moved along the pipeline; an illegal move is a Conflict naming the
    possible ones."""
    if not may_move(application.status, target):
        raise Conflict(illegal_move(application.status, target), {"application_id": application.id})
    moved = replace(application, status=target, updated_at=now)
    return moved, Move(application.id, now, application.status, target, note, operator_id)


def check_start(started_on: dt.date, today: dt.date) -> None:
    """A hire starts within a year of today, either way."""
    if abs(started_on - today) > START_WINDOW:
        raise invalid({"started_on": ["must be within a year of today"]})


def hire(
    application: Application,
    posting: Posting,
    terms: Mapping[str, Any],
    now: dt.datetime,
    operator_id: str,
) -> Hire:
    """The hire on an offered application (``hired`` must be a legal move)."""
    if not may_move(application.status, "hired"):
        raise Conflict(
            illegal_move(application.status, "hired"), {"application_id": application.id}
        )
    return Hire(
        application_id=application.id,
        veteran_id=application.veteran_id,
        posting_id=posting.id,
        employer_id=posting.employer_id,
        county_code=application.county_code,
        started_on=terms["started_on"],
        salary=terms["salary"],
        channel=application.channel,
        dedicated=posting.dedicated,
        hired_at=now,
        hired_by=operator_id,
        contract_months=terms.get("contract_months"),
        social_insurance=bool(terms.get("social_insurance", False)),
        insured_from=terms.get("insured_from"),
    )


# -- events -------------------------------------------------------------------------------
def posted_event(posting: Posting) -> Event:
    return Event(
        JOB_POSTED,
        {
            "posting_id": posting.id,
            "employer_id": posting.employer_id,
            "county_code": posting.county_code,
            "occupation": posting.occupation,
            "skills_required": list(posting.skills_required),
            "openings": posting.openings,
            "dedicated": posting.dedicated,
            "source": posting.source,
        },
    )


def closed_event(posting_id: str, reason: str) -> Event:
    return Event(JOB_CLOSED, {"posting_id": posting_id, "reason": reason})


def submitted_event(application: Application) -> Event:
    return Event(
        APPLICATION_SUBMITTED,
        {
            "application_id": application.id,
            "veteran_id": application.veteran_id,
            "posting_id": application.posting_id,
            "channel": application.channel,
        },
    )


def hired_event(hire: Hire, employer_name: str) -> Event:
    return Event(
        VETERAN_HIRED,
        {
            "application_id": hire.application_id,
            "veteran_id": hire.veteran_id,
            "posting_id": hire.posting_id,
            "employer_id": hire.employer_id,
            "employer_name": employer_name,
            "county_code": hire.county_code,
            "started_on": hire.started_on,
            "salary": hire.salary,
            "channel": hire.channel,
            "contract_months": hire.contract_months,
            "social_insurance": hire.social_insurance,
            "insured_from": hire.insured_from,
        },
    )


# -- replies ------------------------------------------------------------------------------
def present_posting(posting: Posting, today: dt.date) -> dict:
    reply = plain(as_dict(posting), drop=("created_by", "bureau_version"))
    reply["remaining"] = posting.openings - posting.hired
    # A posting whose date has passed is closed even before the sweep marks it.
    if reply["status"] == "open" and posting.closes_on < today:
        reply["status"], reply["closed_reason"] = "closed", EXPIRED
    return reply


def present_employer(employer: Employer) -> dict:
    """The employer; its contact's phone masked like a veteran's in a list (no employer
    read is audited, so none shows it in full)."""
    reply = plain(as_dict(employer))
    reply["contact_phone"] = mask_phone(reply.get("contact_phone"))
    return reply


def present_application(application: Application) -> dict:
    return plain(as_dict(application))


def present_listings(listings: Iterable[ApplicationListing], moves: Iterable[Move]) -> list[dict]:
    """A veteran's applications, each with the history of its moves."""
    history: dict[str, list[dict]] = {}
    for entry in moves:
        row = as_dict(entry)
        history.setdefault(row.pop("application_id"), []).append(plain(row))
    out = []
    for listing in listings:
        row = as_dict(listing)
        row = {**as_dict(row.pop("application")), **row}
        out.append({**plain(row), "history": history.get(listing.application.id, [])})
    return out


def open_recommendations(recommended: Iterable[tuple[Posting, int]], today: dt.date) -> list[dict]:
    """Stored recommendations still worth showing: the postings open today."""
    shown = [(present_posting(posting, today), score) for posting, score in recommended]
    return [
        {"posting": posting, "score": score}
        for posting, score in shown
        if posting["status"] == "open"
    ]
