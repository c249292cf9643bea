"""Registry's domain: a veteran's card, how it changes, and what each change causes.
Pure functions, no I/O: they return the new state and the events it causes."""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from shared.contracts import Event
from shared.contracts.registry import EMPLOYMENT_STATUS_CHANGED, VETERAN_REGISTERED, VETERAN_UPDATED
from shared.masks import mask_card_number, mask_id_number, mask_phone

FLAG_DIVISION_UNVERIFIED = "id_division_unverified"
FLAG_POSSIBLE_DUPLICATE = "possible_duplicate"
# Reported to the bureau more than the allowed days after discharge (条例 第13条).
FLAG_LATE_REPORT = "late_report"
# A card lists at most this many possible duplicates: the oldest.
MAX_DUPLICATES = 20
# Statuses that count as working or running a business (the bureau's rate). 返乡务农 counts:
# the ministry's annual form counts it among the employed (D = E + G + H).
WORKING = ("employed", "self_employed", "flexible", "public_welfare_post", "returned_farming")
IMMUTABLE = ("id", "id_number", "gender", "birth_date", "registered_at")


@dataclass(frozen=True)
class CardRules:
    """What policy sets for a card (shared/data/card_rules.yaml, the taxonomy's
    branch_periods), read by the caller and passed in: domain reads no file."""

    late_report_days: int
    # rank_category → the discharge_type (安置方式) codes open to it
    placements: Mapping[str, frozenset]
    # branch → (existed from, until), None for an open end
    branch_periods: Mapping[str, tuple]


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
    political_status: str | None = None
    preferential_card_number: str | None = None
    honours: list = field(default_factory=list)
    health: str | None = None
    disability_grade: int | None = None
    employment_difficulty: dict | None = None
    reported_on: date | None = None
    hukou_place: str | None = None
    placement_place: str | None = None
    collected_by: str | None = None
    verified_by: str | None = None
    verified_at: datetime | None = None
    trained: bool = False


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


# Each rule across fields: the field a problem names → the fields it reads.
RULE_FIELDS = {
    "discharge_type": {"rank_category", "discharge_type"},
    "branch": {"branch", "enlisted_on", "discharged_on"},
    "honours": {"honours", "enlisted_on", "discharged_on"},
    "disability_grade": {"disability_grade", "health"},
    "reported_on": {"reported_on", "discharged_on"},
}


def card_problems(card, rules, changed=None):
    """``{field: [message]}``: what in a card (a mapping of its fields, as given or merged
    with the stored card) breaks a rule across fields. Empty when none does. With
    ``changed`` (the fields an update sets) only the rules reading one of them count: a
    card stored before a rule existed can still be edited elsewhere."""
    problems = _problems(card, rules)
    if changed is not None:
        problems = {k: v for k, v in problems.items() if RULE_FIELDS[k] & set(changed)}
    return problems


def _problems(card, rules):
    problems: dict[str, list[str]] = {}
    rank, placement = card.get("rank_category"), card.get("discharge_type")
    allowed = rules.placements.get(rank) if rank else None
    if placement and allowed is not None and placement not in allowed:
        problems["discharge_type"] = [
            f"{placement} is not a placement of rank_category {rank}"
            f" (allowed: {', '.join(sorted(allowed))})"
        ]
    branch = card.get("branch")
    began, until = rules.branch_periods.get(branch, (None, None))
    enlisted, discharged = card.get("enlisted_on"), card.get("discharged_on")
    if until and enlisted and enlisted >= until:
        problems["branch"] = [f"{branch} did not exist for service begun on or after {until}"]
    elif began and discharged and discharged < began:
        problems["branch"] = [f"{branch} did not exist for a discharge before {began}"]
    low = enlisted.year if enlisted else None
    high = discharged.year if discharged else None
    for honour in card.get("honours") or ():
        year = honour.get("year")
        if year is not None and ((low and year < low) or (high and year > high)):
            problems["honours"] = ["a year is outside the years of service"]
            break
    if card.get("disability_grade") is not None and card.get("health") != "disabled":
        problems["disability_grade"] = ["is given only with health disabled"]
    reported = card.get("reported_on")
    if reported and discharged and reported < discharged:
        problems["reported_on"] = ["is before discharged_on"]
    return problems


def derived_flags(flags, card, rules):
    """``flags`` with ``late_report`` set or cleared from the card's dates."""
    reported, discharged = card.get("reported_on"), card.get("discharged_on")
    late = bool(
        rules
        and reported
        and discharged
        and reported > discharged + timedelta(days=rules.late_report_days)
    )
    kept = [f for f in flags if f != FLAG_LATE_REPORT]
    return [*kept, FLAG_LATE_REPORT] if late else kept


def register(command, veteran_id, now, possible_duplicates=(), rules=None):
    """A new card. Possible duplicates (same name, birth date and county, or same phone)
    are accepted and flagged, for a clerk to look at; with ``rules``, a late report-in is
    flagged too."""
    gender, birth_date, flags = identity(command["id_number"])
    if possible_duplicates:
        flags.append(FLAG_POSSIBLE_DUPLICATE)
    flags = derived_flags(flags, command, rules)
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
        # in the order register gives them: the derived late_report last
        flags=[
            *(f for f in veteran.flags if f != FLAG_LATE_REPORT),
            FLAG_POSSIBLE_DUPLICATE,
            *(f for f in veteran.flags if f == FLAG_LATE_REPORT),
        ],
        possible_duplicates=[str(d) for d in possible_duplicates],
    )
    return flagged, events


def as_card(veteran, changes=None):
    """The card's fields as a mapping, ``changes`` applied: what ``card_problems`` reads."""
    card = {f.name: getattr(veteran, f.name) for f in fields(veteran)}
    card.update(changes or {})
    return card


def update(veteran, changes, now, reason=None, cause_event_id=None, rules=None):
    """Apply ``changes`` (field → new value). Returns the new card, the history entries
    and the events: ``veteran_updated`` when a fact others know changed, and
    ``employment_status_changed`` when the status did. With ``rules`` the late-report
    flag follows the dates."""
    if rules is not None and {"reported_on", "discharged_on"} & set(changes):
        flags = derived_flags(veteran.flags, as_card(veteran, changes), rules)
        if flags != veteran.flags:
            changes = {**changes, "flags": flags}
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
    before, after = facts(veteran), facts(updated)
    changed_facts = {k: v for k, v in after.items() if before.get(k) != v}
    if changed_facts:
        events.append(
            Event(
                VETERAN_UPDATED,
                {
                    "veteran_id": veteran.id,
                    "changed": json_safe(changed_facts),
                    "snapshot": after,
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


def verified(operator_id, now):
    """The card was checked by ``operator_id`` (a new verification replaces the old)."""
    return {"verified_by": operator_id, "verified_at": now}


def took_training():
    """A training event shows the veteran took skills training (once is enough)."""
    return {"trained": True}


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
        # Placement and derived facts the annual form and others need: codes and flags,
        # no identifier (no card number, no years, no places).
        "honours": list(dict.fromkeys(h["kind"] for h in veteran.honours or ())),
        "disability_grade": veteran.disability_grade,
        "difficulty_recognised": bool(
            veteran.employment_difficulty and veteran.employment_difficulty.get("recognised")
        ),
        "late_report": FLAG_LATE_REPORT in veteran.flags,
        # Not ``trained``: it stays on the card (the annual form reads it here). As a fact,
        # a training_completed would send a veteran_updated of its own just before the
        # certificate's, and a replica of jobs taking the two out of order would put back
        # a snapshot without the certificate (chaos-ci caught it).
    }


def present(veteran, contact=False):
    """The veteran as a JSON-safe reply. The ID number is always masked (the full one comes
    only from the audited ``reveal_id_number``). Without ``contact`` the phone is masked
    and the address left out, as in lists, searches, exports and the replies of writes;
    with it (a single card read, audited by the caller) both are there in full."""
    reply = {f.name: getattr(veteran, f.name) for f in fields(veteran)}
    reply["intentions"] = dict(veteran.intentions)
    reply["id_number"] = mask_id_number(veteran.id_number)
    reply["preferential_card_number"] = mask_card_number(veteran.preferential_card_number)
    reply["honours"] = [dict(h) for h in veteran.honours or ()]
    if veteran.employment_difficulty is not None:
        reply["employment_difficulty"] = dict(veteran.employment_difficulty)
    if not contact:
        reply["phone"] = mask_phone(veteran.phone)
        del reply["address"]
    return json_safe(reply)
