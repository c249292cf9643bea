"""Recruitment fairs (专场招聘会): what one is, the rules for scheduling one, and its reply.
Pure functions, no I/O."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import invalid
from shared.records import as_dict
from shared.replies import plain

FAIR_MODES = ("online_live", "offline", "hybrid")


@dataclass
class Fair:
    id: str
    title: str
    county_code: str
    starts_at: dt.datetime
    mode: str
    created_at: dt.datetime
    stream_url: str | None = None
    venue: str | None = None
    employer_ids: list[str] = field(default_factory=list)
    posting_ids: list[str] = field(default_factory=list)
    created_by: str | None = None


def schedule_fair(
    command: Mapping[str, Any],
    fair_id: str,
    now: dt.datetime,
    operator_id: str,
    known_employers: set[str],
    known_postings: set[str],
) -> Fair:
    """A fair whose participating employers and postings all exist (``known_*``: those of
    the ids that do, for the caller); each listed once, in the order first given."""
    errors = {}
    lists = {}
    for name, noun, known in (
        ("employer_ids", "employer", known_employers),
        ("posting_ids", "posting", known_postings),
    ):
        wanted = [str(i) for i in command[name]]
        for index, value in enumerate(wanted):
            if value not in known:
                errors[f"{name}.{index}"] = [f"no {noun} with this id"]
        lists[name] = list(dict.fromkeys(wanted))
    if errors:
        raise invalid(errors)
    return Fair(id=fair_id, created_at=now, created_by=operator_id, **{**command, **lists})


def present_fair(fair: Fair, figures: Mapping[str, int]) -> dict:
    return {**plain(as_dict(fair)), **figures}
