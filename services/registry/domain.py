"""Registry's domain: a veteran's card, how it changes, and what each change causes.
Pure functions, no I/O: they return the new state and the events it causes."""

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from shared.contracts import Event
from shared.contracts.registry import EMPLOYMENT_STATUS_CHANGED, VETERAN_REGISTERED, VETERAN_UPDATED
from shared.masks import mask_id_number, mask_phone

FLAG_DIVISION_UNVERIFIED = "id_division_unverified"
FLAG_POSSIBLE_DUPLICATE = "possible_duplicate"
# A card lists at most this many possible duplicates: the oldest.
MAX_DUPLICATES = 20
# Fields other services may know (they travel in events); the rest stay in registry.
FACT_FIELDS = (
    "county_code",
    "station_code",
    "discharge_type",
    "discharged_on",
    "skills",
    "certificates",
    "willingness",
    "service_needs",
    "employment_status",
    "intentions",
)
# Statuses that count as working or running a business (the bureau's rate).
WORKING = ("employed", "self_employed", "flexible", "public_welfare_post")
IMMUTABLE = ("id", "id_number", "gender", "birth_date", "registered_at")


@dataclass
class Veteran:
    id: str
    id_number: str
    name: str
    gender: str
    birth_date: date
    county_code: str
    discharged_on: date
    discharge_type: str
    willingness: str
    employment_status: str
    registered_at: datetime
    updated_at: datetime
    phone: str | None = None
    address: str | None = None
    station_code: str | None = None  # township or village station (shared.jurisdiction)
    ethnicity: str | None = None
    education: str | None = None
    branch: str | None = None
    rank_category: str | None = None
    enlisted_on: date | None = None
    skills: list = field(default_factory=list)
    certificates: list = field(default_factory=list)
    intentions: dict = field(default_factory=dict)
    service_needs: list = field(default_factory=list)
    employer: str | None = None
    employed_since: date | None = None
    consent: dict | None = None
    notes: str | None = None
    flags: list = field(default_factory=list)
    possible_duplicates: list = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    """One field of a card changed: kept as history (who, when, old → new)."""

    field: str
    old: object
    new: object


def identity(id_number):
    """Gender, birth date and flags derived from a checked ID number. A division code that
    stdnum's table does not know for the birth year is accepted and flagged: the table
    lags behind real re-divisions, and the clerk can confirm it."""
    birth_date = ric.get_birth_date(id_number)
    gender = "male" if int(id_number[16]) % 2 else "female"
    flags = []
    try:
        ric.get_birth_place(id_number)
    except StdnumError:
        flags.append(FLAG_DIVISION_UNVERIFIED)
    return gender, birth_date, flags


def register(command, veteran_id, now, possible_duplicates=()):
    """A new card. Possible duplicates (same name, birth date and county, or same phone)
    are accepted and flagged, for a clerk to look at."""
    gender, birth_date, flags = identity(command["id_number"])
    if possible_duplicates:
        flags.append(FLAG_POSSIBLE_DUPLICATE)
    veteran = Veteran(
        id=veteran_id,
        gender=gender,
        birth_date=birth_date,
        flags=flags,
        registered_at=now,
        updated_at=now,
        possible_duplicates=[str(d) for d in possible_duplicates],
        **command,
    )
    return veteran, [Event(VETERAN_REGISTERED, facts(veteran))]


def with_duplicates(veteran, events, possible_duplicates):
    """A new card (and its events) as ``register`` makes it given these possible duplicates:
    flagged and listing them. No fact its events carry changes, and the ID number is not
    parsed again (a bulk batch sharing one phone has 1,000 such cards)."""
    flagged = replace(
        veteran,
        flags=[*veteran.flags, FLAG_POSSIBLE_DUPLICATE],
        possible_duplicates=[str(d) for d in possible_duplicates],
    )
    return flagged, events


def update(veteran, changes, now, reason=None, cause_event_id=None):
    """Apply ``changes`` (field → new value). Returns the new card, the history entries
    and the events: ``veteran_updated`` when a fact others know changed, and
    ``employment_status_changed`` when the status did."""
    history = [
        Change(name, getattr(veteran, name), value)
        for name, value in changes.items()
        if name not in IMMUTABLE and getattr(veteran, name) != value
    ]
    if not history:
        return veteran, [], []
    updated = replace(veteran, updated_at=now, **{c.field: c.new for c in history})
    if updated.employment_status not in WORKING and "employment_status" in changes:
        # Leaving work clears where, unless the same change says otherwise.
        updated.employer = changes.get("employer")
        updated.employed_since = changes.get("employed_since")
    events = []
    changed_facts = {c.field: c.new for c in history if c.field in FACT_FIELDS}
    if changed_facts:
        events.append(
            Event(
                VETERAN_UPDATED,
                {
                    "veteran_id": veteran.id,
                    "changed": json_safe(changed_facts),
                    "snapshot": facts(updated),
                },
            )
        )
    if updated.employment_status != veteran.employment_status:
        events.append(
            Event(
                EMPLOYMENT_STATUS_CHANGED,
                {
                    "veteran_id": veteran.id,
                    "previous": veteran.employment_status,
                    "current": updated.employment_status,
                    "reason": reason or "updated by operator",
                    "cause_event_id": cause_event_id,
                    "county_code": veteran.county_code,
                },
            )
        )
    return updated, history, events


def hired(veteran, employer, started_on):
    return {"employment_status": "employed", "employer": employer, "employed_since": started_on}


def certified(veteran, certificate_name, skills_granted):
    """A certificate and its skills join the card (each once)."""
    return {
        "certificates": _union(veteran.certificates, [certificate_name]),
        "skills": _union(veteran.skills, skills_granted),
    }


def _union(existing, more):
    return list(dict.fromkeys([*existing, *more]))


def json_safe(values):
    """Dates and times as ISO strings, for replies and events."""
    return {k: v.isoformat() if isinstance(v, (date, datetime)) else v for k, v in values.items()}


def json_rows(rows):
    return [json_safe(dict(row)) for row in rows]


def facts(veteran):
    """What other services need to know, without any personal identifier."""
    return {
        "veteran_id": veteran.id,
        "county_code": veteran.county_code,
        "station_code": veteran.station_code,
        "gender": veteran.gender,
        "birth_year": veteran.birth_date.year,
        "discharge_type": veteran.discharge_type,
        "discharged_on": veteran.discharged_on,
        "skills": list(veteran.skills),
        "certificates": list(veteran.certificates),
        "willingness": veteran.willingness,
        "service_needs": list(veteran.service_needs),
        "employment_status": veteran.employment_status,
        "intentions": dict(veteran.intentions),
    }


def present(veteran, contact=False):
    """The veteran as a JSON-safe reply. The ID number is always masked (the full one comes
    only from the audited ``reveal_id_number``). Without ``contact`` the phone is masked
    and the address left out, as in lists, searches, exports and the replies of writes;
    with it (a single card read, audited by the caller) both are there in full."""
    reply = {f.name: getattr(veteran, f.name) for f in fields(veteran)}
    reply["intentions"] = dict(veteran.intentions)
    reply["id_number"] = mask_id_number(veteran.id_number)
    if not contact:
        reply["phone"] = mask_phone(veteran.phone)
        del reply["address"]
    return json_safe(reply)
