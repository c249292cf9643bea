"""Controlled vocabularies (codes with Chinese labels) and marshmallow validators for them.

The vocabularies live in shared/data/taxonomy.yaml; every code a client sends is checked against it.
"""

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import yaml
from marshmallow import ValidationError

DEFAULT_PATH = Path(__file__).parent / "data" / "taxonomy.yaml"


class Taxonomy:
    def __init__(self, categories: Mapping[str, Mapping[str, str]]):
        self._categories = {name: dict(codes) for name, codes in categories.items()}

    @staticmethod
    def load(path: str | Path | None = None) -> "Taxonomy":
        return _load(str(path or DEFAULT_PATH))

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


@cache
def _load(path: str) -> Taxonomy:
    with open(path, encoding="utf-8") as f:
        return Taxonomy(yaml.safe_load(f))


def code_of(category: str, taxonomy: Taxonomy | None = None):
    """A marshmallow validator accepting only codes of `category`."""

    def validate(code: str) -> None:
        tx = taxonomy or Taxonomy.load()
        if not isinstance(code, str) or not tx.is_valid(category, code):
            raise ValidationError(
                f"not a {category} code"
            )  # (the value stays out: it may be anything)

    return validate
