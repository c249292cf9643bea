"""The prefecture this deployment serves and its counties (GB/T 2260 codes), read from
shared/data/jurisdiction.yaml, plus a marshmallow validator for county codes."""

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from marshmallow import ValidationError

DEFAULT_PATH = Path(__file__).parent / "data" / "jurisdiction.yaml"


@dataclass(frozen=True)
class Jurisdiction:
    prefecture_code: str
    prefecture_name: str
    counties: dict[str, str]  # county code -> name

    @staticmethod
    def load(path: str | Path | None = None) -> "Jurisdiction":
        # A deployment for another prefecture points JURISDICTION_FILE at its own file.
        return _load(str(path or os.environ.get("JURISDICTION_FILE") or DEFAULT_PATH))

    def contains(self, code: object) -> bool:
        return isinstance(code, str) and code in self.counties

    def name_of(self, code: str) -> str | None:
        return self.counties.get(code)

    def codes(self) -> list[str]:
        return sorted(self.counties)


@cache
def _load(path: str) -> Jurisdiction:
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    prefecture_code = str(data["prefecture"]["code"])
    counties = {}
    for code, name in data["counties"].items():
        if not (
            isinstance(code, str)
            and len(code) == 6
            and code.isascii()
            and code.isdigit()
            and code.startswith(prefecture_code)
        ):
            raise ValueError(
                f"{path}: county {code!r} ({name}) is not a 6-digit code "
                f"under prefecture {prefecture_code}"
            )
        counties[code] = str(name)
    return Jurisdiction(prefecture_code, str(data["prefecture"]["name"]), counties)


def county_validator(jurisdiction: Jurisdiction | None = None):
    """A marshmallow validator accepting only county codes of the jurisdiction."""

    def validate(code: object) -> None:
        j = jurisdiction or Jurisdiction.load()
        if not j.contains(code):
            raise ValidationError(f"not a county of {j.prefecture_name}")

    return validate
