"""Controlled vocabularies (codes with Chinese labels) and marshmallow validators for them.

The vocabularies live in shared/data/taxonomy.yaml; every code a client sends is checked against it.
Old codes and labels keep loading: its ``aliases`` section maps them to current codes (the
``Code`` field applies it), and an occupation may be named by its 职业分类大典 code.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import yaml
from marshmallow import ValidationError, fields

DEFAULT_PATH = Path(__file__).parent / "data" / "taxonomy.yaml"


# Sections of the data file that are not categories.
SECTIONS = ("aliases", "occupation_codes", "branch_periods")


class Taxonomy:
    def __init__(
        self,
        categories: Mapping[str, Mapping[str, str]],
        aliases: Mapping[str, Mapping[str, str]] | None = None,
        occupation_codes: Mapping[str, Mapping | None] | None = None,
        branch_periods: Mapping[str, Mapping] | None = None,
    ):
        self._categories = {name: dict(codes) for name, codes in categories.items()}
        self._aliases = {name: dict(table) for name, table in (aliases or {}).items()}
        self._occupation_codes = {
            code: dict(entry) for code, entry in (occupation_codes or {}).items() if entry
        }
        # An occupation named by its 大典 code is ours.
        by_dadian = {entry["code"]: code for code, entry in self._occupation_codes.items()}
        if by_dadian:
            self._aliases.setdefault("occupations", {}).update(by_dadian)
        self._branch_periods = {
            code: (_day(period.get("from")), _day(period.get("until")))
            for code, period in (branch_periods or {}).items()
        }
        for category, table in self._aliases.items():
            known = self._category(category)
            wrong = [old for old, new in table.items() if new not in known]
            if wrong:
                raise ValueError(f"aliases of {category} name no current code: {wrong}")

    @staticmethod
    def load(path: str | Path | None = None) -> "Taxonomy":
        return _load(str(path or DEFAULT_PATH))

    def current(self, category: str, value: str) -> str:
        """The current code for ``value``: itself, or what an old code or label (or, for
        occupations, a 职业分类大典 code) maps to. Unknown values come back unchanged."""
        return self._aliases.get(category, {}).get(value, value)

    def aliases(self, category: str) -> dict[str, str]:
        """Old code or label → current code (occupations: also 大典 code → ours)."""
        return dict(self._aliases.get(category, {}))

    def occupation_code(self, occupation: str) -> dict | None:
        """``{"code": "4-07-05-04", "confirmed": bool}`` of an occupation, or None when
        its 职业分类大典 code is not known here."""
        entry = self._occupation_codes.get(occupation)
        return dict(entry) if entry else None

    def branch_periods(self) -> dict[str, tuple[dt.date | None, dt.date | None]]:
        """branch → (existed from, until): None for an open end."""
        return dict(self._branch_periods)

    def _category(self, category: str) -> dict[str, str]:
        try:
            return self._categories[category]
        except KeyError:
            raise KeyError(
                f"unknown taxonomy category {category!r}; known: {', '.join(self.categories())}"
            ) from None

    def categories(self) -> list[str]:
        return list(self._categories)

    def codes(self, category: str) -> frozenset[str]:
        return frozenset(self._category(category))

    def label(self, category: str, code: str) -> str:
        return self._category(category).get(code, code)

    def is_valid(self, category: str, code: str) -> bool:
        return code in self._category(category)

    def unknown(self, category: str, values: Iterable[str]) -> list[str]:
        known = self._category(category)
        return list(dict.fromkeys(v for v in values if v not in known))


def _day(value) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(str(value))


@cache
def _load(path: str) -> Taxonomy:
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    sections = {name: data.pop(name, None) for name in SECTIONS}
    return Taxonomy(data, **sections)


def code_of(category: str, taxonomy: Taxonomy | None = None):
    """A marshmallow validator accepting only codes of `category`."""

    def validate(code: str) -> None:
        tx = taxonomy or Taxonomy.load()
        if not isinstance(code, str) or not tx.is_valid(category, code):
            raise ValidationError(
                f"not a {category} code"
            )  # (the value stays out: it may be anything)

    return validate


class Code(fields.String):
    """A code of ``category``: an old code or label of the ``aliases`` section (or an
    occupation's 大典 code) loads as the current code; anything else unknown is refused."""

    def __init__(self, category: str, taxonomy: Taxonomy | None = None, **kwargs):
        super().__init__(**kwargs)
        self.category = category
        self.taxonomy = taxonomy

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        tx = self.taxonomy or Taxonomy.load()
        code = tx.current(self.category, text)
        if not tx.is_valid(self.category, code):
            raise ValidationError(f"not a {self.category} code")
        return code
