"""Enterprises' booklets (一企一册): an enterprise or individual business (个体工商户) founded
by registered veterans, how it changes, and the events it causes. Pure: no I/O."""

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime

from services.registry.domain import json_safe
from shared.contracts import Event
from shared.contracts.registry import ENTERPRISE_REGISTERED, ENTERPRISE_UPDATED

ENTERPRISE = "enterprise"
INDIVIDUAL_BUSINESS = "individual_business"
CLOSED = "closed"
# What other services may know (it travels in events). The name, the USCC and the
# incubation base stay in registry: events carry no names.
FACT_FIELDS = (
    "kind",
    "county_code",
    "industry",
    "stage",
    "founder_ids",
    "founded_on",
    "employees",
    "veteran_employees",
    "federation_member",
    "new_hires",
)
IMMUTABLE = ("id", "registered_at", "created_by")


@dataclass
class Enterprise:
    id: str
    kind: str
    name: str
    county_code: str
    industry: str
    founded_on: date
    stage: str
    registered_at: datetime
    updated_at: datetime
    founder_ids: list = field(default_factory=list)
    uscc: str | None = None
    employees: int | None = None
    veteran_employees: int | None = None
    federation_member: bool = False
    incubation_base: str | None = None
    # Staff hired in the past 12 months on contracts of at least a year (loans' small and
    # micro enterprise condition); None: not given.
    new_hires: int | None = None


def founders(ids):
    """A founder set as the booklet keeps it: unique, as strings, in a stable order."""
    return sorted({str(i) for i in ids})


def new(command, enterprise_id, now):
    """A new booklet from a checked command; check it with ``problems`` before storing."""
    values = {**command, "founder_ids": founders(command["founder_ids"])}
    return Enterprise(id=enterprise_id, registered_at=now, updated_at=now, **values)


def registered(enterprise):
    return [Event(ENTERPRISE_REGISTERED, facts(enterprise))]


def problems(enterprise, today):
    """Rules over the whole booklet (after a partial update too): ``{field: [messages]}``."""
    errors = {}
    if enterprise.kind == ENTERPRISE and not enterprise.uscc:
        errors["uscc"] = ["is required for kind enterprise"]
    if enterprise.founded_on > today:
        errors["founded_on"] = ["is in the future"]
    if (
        enterprise.employees is not None
        and enterprise.veteran_employees is not None
        and enterprise.veteran_employees > enterprise.employees
    ):
        errors["veteran_employees"] = ["is more than employees"]
    if enterprise.veteran_employees is not None and enterprise.employees is None:
        errors["employees"] = ["is required when veteran_employees is given"]
    if (
        enterprise.new_hires is not None
        and enterprise.employees is not None
        and enterprise.new_hires > enterprise.employees
    ):
        errors["new_hires"] = ["is more than employees"]
    if not enterprise.founder_ids:
        errors["founder_ids"] = ["at least one founder"]
    return errors


def update(enterprise, changes, now):
    """Apply ``changes`` (field → new value). Returns the new booklet, the changed fields
    (field → new value) and the events: ``enterprise_updated`` when a fact others know
    changed. A change of name or USCC alone is recorded (audit) but is no news."""
    if "founder_ids" in changes:
        changes = {**changes, "founder_ids": founders(changes["founder_ids"])}
    changed = {
        name: value
        for name, value in changes.items()
        if name not in IMMUTABLE and getattr(enterprise, name) != value
    }
    if not changed:
        return enterprise, {}, []
    updated = replace(enterprise, updated_at=now, **changed)
    facts_changed = {k: v for k, v in changed.items() if k in FACT_FIELDS}
    events = []
    if facts_changed:
        events.append(
            Event(
                ENTERPRISE_UPDATED,
                {
                    "enterprise_id": enterprise.id,
                    "changed": json_safe(facts_changed),
                    "snapshot": facts(updated),
                },
            )
        )
    return updated, changed, events


def added_founders(before, after):
    """Founders in ``after`` who were not in ``before`` (in ``after``'s order)."""
    return [f for f in after.founder_ids if f not in set(before.founder_ids)]


def makes_self_employed(enterprise):
    """Founding a business that is not closed makes its founders self-employed; recording
    an enterprise that has already closed says nothing about what they do now."""
    return enterprise.stage != CLOSED


def facts(enterprise):
    """What other services need to know, without names."""
    return {
        "enterprise_id": enterprise.id,
        "kind": enterprise.kind,
        "county_code": enterprise.county_code,
        "industry": enterprise.industry,
        "stage": enterprise.stage,
        "founder_ids": list(enterprise.founder_ids),
        "founded_on": enterprise.founded_on,
        "employees": enterprise.employees,
        "veteran_employees": enterprise.veteran_employees,
        "new_hires": enterprise.new_hires,
    }


def present(enterprise):
    """The booklet's enterprise as a JSON-safe reply."""
    reply = {f.name: getattr(enterprise, f.name) for f in fields(enterprise)}
    reply["founder_ids"] = list(enterprise.founder_ids)
    return json_safe(reply)


def present_founder(founder, visible):
    """A founder on the booklet; one from a county the operator may not see is shown by
    id and county only."""
    return {
        "id": founder["id"],
        "county_code": founder["county_code"],
        "name": founder["name"] if visible else None,
        "employment_status": founder["employment_status"] if visible else None,
    }
