"""Registry's domain: a veteran's card and what registering one causes. Pure functions,
no I/O: they return the new state and the events it causes."""
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from shared.contracts import Event
from shared.contracts.registry import VETERAN_REGISTERED

FLAG_DIVISION_UNVERIFIED = "id_division_unverified"


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
    branch: str | None = None
    enlisted_on: date | None = None
    skills: list = field(default_factory=list)
    certificates: list = field(default_factory=list)
    intentions: dict = field(default_factory=dict)
    service_needs: list = field(default_factory=list)
    flags: list = field(default_factory=list)


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


def register(command, veteran_id, now):
    gender, birth_date, flags = identity(command["id_number"])
    veteran = Veteran(id=veteran_id, gender=gender, birth_date=birth_date, flags=flags,
                      registered_at=now, updated_at=now, **command)
    return veteran, [Event(VETERAN_REGISTERED, facts(veteran))]


def facts(veteran):
    """What other services need to know, without any personal identifier."""
    return {
        "veteran_id": veteran.id,
        "county_code": veteran.county_code,
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


def mask_id_number(id_number):
    return f"{id_number[:6]}{'*' * 8}{id_number[-4:]}"


def present(veteran, reveal=False):
    """The veteran as a JSON-safe reply; the ID number masked unless revealed."""
    reply = {f.name: getattr(veteran, f.name) for f in fields(veteran)}
    reply["intentions"] = dict(veteran.intentions)
    if not reveal:
        reply["id_number"] = mask_id_number(veteran.id_number)
    for key, value in reply.items():
        if isinstance(value, (date, datetime)):
            reply[key] = value.isoformat()
    return reply
