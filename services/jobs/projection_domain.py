"""jobs' projection of veterans: the facts matching needs, kept from registry's and
training's events, and who is offered postings. Pure functions, no I/O."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from shared.contracts.registry import EMPLOYMENT_STATUS_CHANGED, VETERAN_REGISTERED, VETERAN_UPDATED

# Veterans matching offers postings to: they want a job and are not working already.
SEEKING_STATUSES = ("unemployed", "flexible", "public_welfare_post", "in_training")


@dataclass
class VeteranFacts:
    """What jobs keeps of a veteran (from registry's and training's events) for matching:
    no names or ID numbers."""

    veteran_id: str
    county_code: str
    willingness: str
    employment_status: str
    skills: list[str] = field(default_factory=list)
    certificates: list[str] = field(default_factory=list)
    occupations: list[str] = field(default_factory=list)
    counties: list[str] = field(default_factory=list)
    min_salary: int | None = None


class Received(Protocol):
    """An event as a handler receives it (shared.contracts.ReceivedEvent, frozen)."""

    @property
    def type(self) -> str: ...

    @property
    def data(self) -> dict: ...


@dataclass
class Projected:
    changed: dict[str, VeteranFacts]  # veteran_id → their facts now: to save
    refresh: set[str]  # veterans whose recommendations are computed afresh
    unknown: list[tuple[str, str]]  # (veteran_id, event type): news of an unknown veteran


def facts_of(data: Mapping[str, Any]) -> VeteranFacts:
    """The facts jobs keeps of a veteran, from ``veteran_registered`` data or a snapshot."""
    intentions = data.get("intentions") or {}
    return VeteranFacts(
        veteran_id=data["veteran_id"],
        county_code=data["county_code"],
        skills=list(data.get("skills") or []),
        certificates=list(data.get("certificates") or []),
        occupations=list(intentions.get("occupations") or []),
        counties=list(intentions.get("counties") or []),
        min_salary=intentions.get("min_salary"),
        willingness=data["willingness"],
        employment_status=data["employment_status"],
    )


def union(current, more):
    return list(current) + [item for item in more if item not in set(current)]


def project(known: Mapping[str, VeteranFacts], events: Iterable[Received]) -> Projected:
    """A batch of registry's and training's events applied to the facts known
    (``known``: by veteran id), in order. A registration or an update replaces a veteran's
    facts; a status change and a certificate change the facts of a veteran known already
    (else they are ``unknown``). Each change refreshes the veteran's recommendations, except
    a status change to anything but unemployed."""
    changed: dict[str, VeteranFacts] = {}
    refresh: set[str] = set()
    unknown: list[tuple[str, str]] = []
    for event in events:
        data, veteran_id = event.data, event.data["veteran_id"]
        current = changed.get(veteran_id) or known.get(veteran_id)
        if event.type == VETERAN_REGISTERED:
            facts = facts_of(data)
        elif event.type == VETERAN_UPDATED:
            facts = facts_of(data["snapshot"])
        elif current is None:  # news of a veteran jobs has not heard of yet
            unknown.append((veteran_id, event.type))
            continue
        elif event.type == EMPLOYMENT_STATUS_CHANGED:
            facts = replace(current, employment_status=data["current"])
            if data["current"] != "unemployed":
                changed[veteran_id] = facts
                continue
        else:  # certificate_issued
            facts = replace(
                current,
                certificates=union(current.certificates, [data["certificate_name"]]),
                skills=union(current.skills, data["skills_granted"]),
            )
        changed[veteran_id] = facts
        refresh.add(veteran_id)
    return Projected(changed, refresh, unknown)


def seeks_work(veteran: VeteranFacts) -> bool:
    """Matching offers postings to veterans who want a job and are not working."""
    return veteran.willingness == "job" and veteran.employment_status in SEEKING_STATUSES
