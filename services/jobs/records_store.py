"""The columns of jobs' tables and the rows read from them as domain records, for the
store modules (store.py, matching_store.py, bureau_store.py). Ids leave the store as
strings, as the domain makes them."""

import uuid
from dataclasses import fields
from typing import Any

from services.jobs.domain import Application, Employer, Move, Posting
from services.jobs.fair_domain import Fair
from services.jobs.projection_domain import VeteranFacts
from shared.records import as_dict

# The columns read back; ``created_by`` is written but only the audit of a row needs it.
POSTING_COLUMNS = tuple(f.name for f in fields(Posting) if f.name != "created_by")
EMPLOYER_COLUMNS = tuple(f.name for f in fields(Employer) if f.name != "created_by")
APPLICATION_COLUMNS = tuple(f.name for f in fields(Application) if f.name != "created_by")
FAIR_COLUMNS = tuple(f.name for f in fields(Fair) if f.name != "created_by")
VETERAN_COLUMNS = (
    "veteran_id",
    "county_code",
    "skills",
    "certificates",
    "occupations",
    "counties",
    "min_salary",
    "willingness",
    "employment_status",
)
ID_COLUMNS = ("id", "employer_id", "veteran_id", "posting_id", "application_id", "fair_id")


def select(columns, alias=""):
    return ", ".join(f"{alias}{column}" for column in columns)


def _strings(row) -> dict[str, Any]:
    """A row with its ids (and lists of ids) as strings."""
    out = dict(row)
    for key in ID_COLUMNS:
        if out.get(key) is not None:
            out[key] = str(out[key])
    for key in ("employer_ids", "posting_ids"):
        if key in out:
            out[key] = [str(value) for value in out[key] or []]
    return out


def posting_from(row) -> Posting:
    return Posting(**{key: value for key, value in _strings(row).items() if key in POSTING_COLUMNS})


def employer_from(row) -> Employer:
    return Employer(**_strings(row))


def application_from(row) -> Application:
    return Application(
        **{key: value for key, value in _strings(row).items() if key in APPLICATION_COLUMNS}
    )


def fair_from(row) -> Fair:
    return Fair(**_strings(row))


def move_from(row) -> Move:
    return Move(**_strings(row))


def veteran_from(row) -> VeteranFacts:
    return VeteranFacts(**_strings(row))


def row_of(record, drop=()) -> dict[str, Any]:
    """A record as a row to insert: its fields, less ``drop``."""
    return {key: value for key, value in as_dict(record).items() if key not in drop}


def uuids(values) -> list[uuid.UUID]:
    """Ids for a ``uuid[]`` column (a list of strings would be sent as ``text[]``)."""
    return [uuid.UUID(str(value)) for value in values]
