"""The prefecture this deployment serves, its counties (GB/T 2260 codes) and their township
and village service stations (12-digit statistical area codes), read from
shared/data/jurisdiction.yaml; marshmallow validators for county and station codes, and the
scope and roll-up rules of stations."""

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from marshmallow import ValidationError

DEFAULT_PATH = Path(__file__).parent / "data" / "jurisdiction.yaml"
TOWNSHIP, VILLAGE = "township", "village"
# 6 county + 3 township + 3 village digits; a township's own code ends in "000".
TOWNSHIP_SUFFIX = "000"


@dataclass(frozen=True)
class Station:
    """A township/street (乡镇/街道) or village/community (村/社区) service station."""

    code: str
    name: str
    level: str  # TOWNSHIP | VILLAGE
    county_code: str

    @property
    def township_code(self) -> str:
        return self.code[:9] + TOWNSHIP_SUFFIX


def within(code: object, scope_code: object) -> bool:
    """Whether station ``code`` lies within station ``scope_code``: itself, or a village of
    that township. Pure string arithmetic on well-formed codes (the loader guarantees that
    no village code ends in "000")."""
    if not (isinstance(code, str) and isinstance(scope_code, str)):
        return False
    return code == scope_code or (
        scope_code.endswith(TOWNSHIP_SUFFIX) and code[:9] == scope_code[:9] and len(code) == 12
    )


def within_any(code: object, scope: Iterable[str] | None) -> bool:
    return any(within(code, s) for s in scope or ())


@dataclass(frozen=True)
class Jurisdiction:
    prefecture_code: str
    prefecture_name: str
    counties: dict[str, str]  # county code -> name
    stations: dict[str, Station] = field(default_factory=dict)  # station code -> station

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

    # -- stations ---------------------------------------------------------------------------
    def station(self, code: object) -> Station | None:
        return self.stations.get(code) if isinstance(code, str) else None

    def stations_of(self, county_code: str) -> list[Station]:
        """A county's stations, each township followed by its villages (code order)."""
        return [self.stations[c] for c in sorted(self.stations) if c[:6] == county_code]

    def covered(self, scope: list[str] | tuple[str, ...]) -> list[str]:
        """Every station code lying within one of ``scope``'s (a township covers its
        villages), sorted."""
        return [code for code in sorted(self.stations) if within_any(code, scope)]

    def roll_up(self, code: str) -> list[str]:
        """Where a station's figures count: village → township → county, from the station
        itself upwards. ``KeyError`` for an unknown station."""
        station = self.stations[code]
        chain = [code]
        if station.level == VILLAGE:
            chain.append(station.township_code)
        return [*chain, station.county_code]


def _is_code(value: object, digits: int) -> bool:
    return isinstance(value, str) and len(value) == digits and value.isascii() and value.isdigit()


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load, but a key given twice in one mapping is an error (YAML would keep the
    last silently: a station listed twice must not vanish)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ValueError(f"{key!r} is listed twice (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@cache
def _load(path: str) -> Jurisdiction:
    with open(path, encoding="utf-8") as f:
        try:
            data = yaml.load(f, Loader=_UniqueKeyLoader)  # a SafeLoader
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    prefecture_code = str(data["prefecture"]["code"])
    counties = {}
    for code, name in data["counties"].items():
        if not (_is_code(code, 6) and code.startswith(prefecture_code)):
            raise ValueError(
                f"{path}: county {code!r} ({name}) is not a 6-digit code "
                f"under prefecture {prefecture_code}"
            )
        counties[code] = str(name)
    stations = _stations(path, data.get("stations") or {}, counties)
    return Jurisdiction(prefecture_code, str(data["prefecture"]["name"]), counties, stations)


def _stations(path: str, data: dict, counties: dict[str, str]) -> dict[str, Station]:
    """The stations of the file's ``stations`` section, checked: each error names the entry."""
    stations: dict[str, Station] = {}

    def add(code, name, level, county):
        if code in stations:
            raise ValueError(f"{path}: station {code!r} ({name}) is listed twice")
        stations[code] = Station(code, str(name), level, county)

    for county, townships in data.items():
        if county not in counties:
            raise ValueError(f"{path}: stations listed under {county!r}, not a county of the file")
        for code, township in (townships or {}).items():
            name = township.get("name") if isinstance(township, dict) else None
            if not name:
                raise ValueError(f"{path}: township {code!r} has no name")
            if not (
                _is_code(code, 12) and code.startswith(county) and code.endswith(TOWNSHIP_SUFFIX)
            ):
                raise ValueError(
                    f"{path}: township {code!r} ({name}) is not a 12-digit code under county "
                    f"{county} ending in {TOWNSHIP_SUFFIX}"
                )
            add(code, name, TOWNSHIP, county)
            for village, village_name in (township.get("villages") or {}).items():
                if not (
                    _is_code(village, 12)
                    and village[:9] == code[:9]
                    and not village.endswith(TOWNSHIP_SUFFIX)
                ):
                    raise ValueError(
                        f"{path}: village {village!r} ({village_name}) is not a 12-digit code "
                        f"under township {code}"
                    )
                add(village, village_name, VILLAGE, county)
    return stations


def county_validator(jurisdiction: Jurisdiction | None = None):
    """A marshmallow validator accepting only county codes of the jurisdiction."""

    def validate(code: object) -> None:
        j = jurisdiction or Jurisdiction.load()
        if not j.contains(code):
            raise ValidationError(f"not a county of {j.prefecture_name}")

    return validate


def station_validator(jurisdiction: Jurisdiction | None = None):
    """A marshmallow validator accepting only station codes of the jurisdiction."""

    def validate(code: object) -> None:
        j = jurisdiction or Jurisdiction.load()
        if j.station(code) is None:
            raise ValidationError(f"not a township or village station of {j.prefecture_name}")

    return validate
