"""The employment bureau's postings sent again (what a newer version changes) and the
hires it pulls back (placements). Pure functions, no I/O."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.jobs.domain import FILLED, Posting, closed_event
from shared.contracts import Event
from shared.errors import invalid

# What the bureau may change on a posting it sent before (not its employer).
BUREAU_UPDATABLE = (
    "title",
    "occupation",
    "skills_required",
    "certificates_preferred",
    "county_code",
    "salary_min",
    "salary_max",
    "openings",
    "closes_on",
    "dedicated",
    "description",
)


@dataclass
class Placement:
    """A hire as the bureau pulls it (no names, phones or ID numbers)."""

    cursor: int
    application_id: str
    veteran_id: str
    posting_id: str
    bureau_posting_id: str | None
    employer_uscc: str | None
    employer_name: str
    county_code: str
    started_on: dt.date
    salary: int
    channel: str
    dedicated: bool


class Stale(Exception):
    """An item whose version is not newer than the stored posting's: it changes nothing."""


@dataclass
class Revision:
    """What an item the bureau sent again does to its stored posting."""

    status: str  # "updated" or "unchanged"
    version: int | None  # the version to record; None: nothing to write
    changes: dict[str, Any]
    closes: bool  # the change leaves no opening: the posting closes as filled
    events: list[Event]


def comparable(value: Any) -> Any:
    """Lists compared as sets (the bureau may send them in another order)."""
    return sorted(value) if isinstance(value, (list, tuple)) else value


def revise(
    existing: Posting,
    employer_uscc: str | None,
    command: Mapping[str, Any],
    uscc: str,
    version: int,
    today: dt.date,
) -> Revision:
    """An item for a posting the bureau sent before. Its version orders the bureau's changes
    (``Stale`` when not newer: an older item arriving late never undoes a newer one); the
    same version with equal fields, or a newer one with equal fields, is unchanged (a newer
    version is recorded). A change emits nothing (there is no posting-changed event) unless
    it leaves no opening: then the posting closes as filled, as after the last hire. A
    closed posting stays closed."""
    changes = {
        key: command[key]
        for key in BUREAU_UPDATABLE
        if comparable(command[key]) != comparable(getattr(existing, key))
    }
    stored = existing.bureau_version or 0  # none: sent before versions, any is newer
    if version < stored:
        raise Stale(f"{version} is older than {stored}, the version stored")
    if version == stored and changes:
        raise Stale(
            f"{version} is the version stored, with other fields: a change needs a greater version"
        )
    if uscc != employer_uscc:
        raise invalid(
            {
                "employer.uscc": [
                    "differs from the employer this posting was sent "
                    "with; a posting keeps its employer"
                ]
            }
        )
    if not changes:
        return Revision("unchanged", version if version > stored else None, {}, False, [])
    errors = {}
    if command["closes_on"] < today:
        errors["closes_on"] = ["is in the past"]
    if command["openings"] < existing.hired:
        errors["openings"] = [f"is below the {existing.hired} already hired"]
    if errors:
        raise invalid(errors)
    closes = existing.status == "open" and command["openings"] == existing.hired
    return Revision(
        "updated", version, changes, closes, [closed_event(existing.id, FILLED)] if closes else []
    )
