"""loans' policy table: every figure policy sets, with the dates it is in force and its
source, read from a data file (services/loans/policy.yaml, or POLICY_FILE) so a bureau
corrects a figure without a release (POLICY-NOTES.md).

The file has one list of entries per section (tax relief for the self-employed, for
employers, loan rules, the LPR, ...). Every entry has an ``id`` (what a computation names
when it says which rule it used), ``effective_from`` and ``effective_to`` (inclusive;
absent: still in force), a ``source``, and the section's own values. An entry may say
``unverified: true`` (a figure the bureau must confirm) or ``demo: true`` (made up for the
demo: never a real figure). Entries of one section may not overlap in time.

Each section's values are checked by the schema registered for it in ``SECTIONS``
(``register``); a bad file stops the service with a message naming the entry."""

import datetime as dt
import importlib
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, ValidationError, fields, validate
from nameko.extensions import DependencyProvider

DEFAULT_PATH = Path(__file__).resolve().parent / "policy.yaml"
COMMON = ("id", "effective_from", "effective_to", "source", "unverified", "demo", "note")

# section name → the marshmallow schema of its entries' own values
SECTIONS: dict[str, Schema] = {}
# The modules that register sections (imported before a file is read).
SECTION_MODULES = (
    "services.loans.policy",
    "services.loans.relief_policy",
    "services.loans.loan_rules",
)


def register(section: str) -> Callable[[type[Schema]], type[Schema]]:
    """Class decorator: ``schema`` checks the values of ``section``'s entries."""

    def add(schema: type[Schema]) -> type[Schema]:
        SECTIONS[section] = schema()
        return schema

    return add


@dataclass(frozen=True)
class Entry:
    """One rule of one section, in force from ``effective_from`` to ``effective_to``
    (inclusive; None: open-ended)."""

    section: str
    id: str
    effective_from: dt.date
    effective_to: dt.date | None
    source: str
    values: dict[str, Any] = field(default_factory=dict)
    unverified: bool = False
    demo: bool = False
    note: str | None = None

    def covers(self, day: dt.date) -> bool:
        ends = self.effective_to
        return self.effective_from <= day and (ends is None or day <= ends)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def cite(self) -> dict[str, Any]:
        """How a reply names the rule it applied."""
        return {
            "id": self.id,
            "source": self.source,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "unverified": self.unverified,
            "demo": self.demo,
        }


class NoRule(LookupError):
    """No entry of a section is in force on a day."""


class Policy:
    """The entries by section, oldest first."""

    def __init__(self, sections: dict[str, list[Entry]]):
        self.sections = sections

    def entries(self, section: str) -> list[Entry]:
        return list(self.sections.get(section, ()))

    def in_force(self, section: str, day: dt.date) -> Entry:
        """The entry of ``section`` in force on ``day``; ``NoRule`` naming both if none."""
        for entry in self.sections.get(section, ()):
            if entry.covers(day):
                return entry
        raise NoRule(f"no {section} rule is in force on {day.isoformat()}")

    def find(self, section: str, entry_id: str) -> Entry:
        for entry in self.sections.get(section, ()):
            if entry.id == entry_id:
                return entry
        raise NoRule(f"no {section} rule {entry_id}")


class _EntryHead(Schema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9_.-]*$"))
    effective_from = fields.Date(required=True)
    effective_to = fields.Date(load_default=None, allow_none=True)
    source = fields.String(required=True, validate=validate.Length(min=1))
    unverified = fields.Boolean(load_default=False)
    demo = fields.Boolean(load_default=False)
    note = fields.String(load_default=None, allow_none=True)


def _load_entry(section: str, index: int, raw: Any, where: str) -> Entry:
    name = f"{where}: {section}[{index}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{name} is not a mapping")
    head_raw = {k: v for k, v in raw.items() if k in COMMON}
    own_raw = {k: v for k, v in raw.items() if k not in COMMON}
    for key in ("effective_from", "effective_to"):  # YAML reads 2023-01-01 as a date
        if isinstance(head_raw.get(key), dt.date):
            head_raw[key] = head_raw[key].isoformat()
    try:
        head = _EntryHead().load(head_raw)
        values = SECTIONS[section].load(own_raw)
    except ValidationError as exc:
        raise ValueError(f"{name} ({raw.get('id', '?')}): {exc.messages}") from None
    if head["effective_to"] is not None and head["effective_to"] < head["effective_from"]:
        raise ValueError(f"{name} ({head['id']}): effective_to is before effective_from")
    return Entry(section=section, values=values, **head)


def load_policy(path: str | Path | None = None) -> Policy:
    for module in SECTION_MODULES:
        importlib.import_module(module)
    path = Path(path or os.environ.get("POLICY_FILE") or DEFAULT_PATH)
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: not a mapping of sections")
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ValueError(f"{path}: unknown sections {unknown}; known: {sorted(SECTIONS)}")
    sections: dict[str, list[Entry]] = {}
    seen: set[str] = set()
    for section, items in raw.items():
        if not isinstance(items, list):
            raise ValueError(f"{path}: {section} is not a list of entries")
        entries = sorted(
            (_load_entry(section, i, item, str(path)) for i, item in enumerate(items)),
            key=lambda entry: entry.effective_from,
        )
        for entry in entries:
            if entry.id in seen:
                raise ValueError(f"{path}: entry id {entry.id} appears twice")
            seen.add(entry.id)
        for before, after in itertools.pairwise(entries):
            if before.effective_to is None or before.effective_to >= after.effective_from:
                raise ValueError(f"{path}: {section} entries {before.id} and {after.id} overlap")
        sections[section] = entries
    return Policy(sections)


# -- the LPR -------------------------------------------------------------------------------
RATE = validate.Range(min=0, max=1)


@register("lpr")
class LprValues(Schema):
    """The loan prime rate (贷款市场报价利率) published on the 20th of each month, as the
    bureau enters it: the one-year and the five-year-plus rate, as shares (0.0310 is
    3.10 %)."""

    one_year = fields.Decimal(required=True, validate=RATE)
    five_year = fields.Decimal(required=True, validate=RATE)


class PolicyTable(DependencyProvider):
    """Injects the Policy read once from config's POLICY_FILE (else policy.yaml)."""

    def setup(self):
        self.policy = load_policy(self.container.config.get("POLICY_FILE") or None)

    def get_dependency(self, worker_ctx):
        return self.policy
