"""A veteran's card as a row of the ``veterans`` table: its columns and the mapping between
a row and the ``Veteran`` dataclass, the part of the store every registry store that reads
or writes cards imports, so that none imports another."""

import json

from services.registry.domain import Veteran

COLUMNS = (
    "id",
    "id_number",
    "name",
    "phone",
    "gender",
    "birth_date",
    "county_code",
    "station_code",
    "address",
    "ethnicity",
    "education",
    "branch",
    "rank_category",
    "enlisted_on",
    "discharged_on",
    "discharge_type",
    "skills",
    "certificates",
    "intentions",
    "willingness",
    "employment_status",
    "service_needs",
    "employer",
    "employed_since",
    "consent",
    "notes",
    "flags",
    "possible_duplicates",
    "registered_at",
    "updated_at",
    "political_status",
    "preferential_card_number",
    "honours",
    "health",
    "disability_grade",
    "employment_difficulty",
    "reported_on",
    "hukou_place",
    "placement_place",
    "collected_by",
    "verified_by",
    "verified_at",
    "trained",
)
JSON_COLUMNS = ("intentions", "consent", "honours", "employment_difficulty")
SELECT = f"SELECT {', '.join(COLUMNS)} FROM veterans"


def veteran_from(row):
    """A ``Veteran`` from a row: a mapping, or ``(column, value)`` pairs."""
    row = dict(row)
    row["id"] = str(row["id"])
    row["possible_duplicates"] = [str(d) for d in row["possible_duplicates"]]
    return Veteran(**row)


def column_values(veteran, columns=COLUMNS):
    """``veteran``'s values for ``columns``, in order, as parameters of a statement."""
    return [
        json.dumps(getattr(veteran, c))
        if c in JSON_COLUMNS and getattr(veteran, c) is not None
        else getattr(veteran, c)
        for c in columns
    ]
