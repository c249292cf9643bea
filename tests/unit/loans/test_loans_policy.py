"""The policy table: the shipped file loads, an entry is found by the day it is in force,
and a bad file stops loading with a message naming the entry."""

import datetime as dt
from decimal import Decimal

import pytest
import yaml

from services.loans.policy import DEFAULT_PATH, NoRule, load_policy

with open(DEFAULT_PATH, encoding="utf-8") as _f:
    SHIPPED = yaml.safe_load(_f)


def lpr(entry_id, start, end=None, one_year="0.0300", **more):
    return {
        "id": entry_id,
        "effective_from": start,
        "effective_to": end,
        "source": "test",
        "one_year": one_year,
        "five_year": "0.0350",
        **more,
    }


def write(tmp_path, **sections):
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(sections, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_lpr_values_are_marked_as_demo_values():
    policy = load_policy()
    entries = policy.entries("lpr")
    assert entries and all(entry.demo for entry in entries)
    assert all("demo" in entry.source for entry in entries)


def test_the_entry_in_force_is_found_by_day_and_dates_are_inclusive(tmp_path):
    policy = load_policy(
        write(
            tmp_path,
            lpr=[
                lpr("later", "2025-01-01", one_year="0.0290"),
                lpr("earlier", "2023-01-01", "2024-12-31", one_year="0.0345"),
            ],
        )
    )
    assert policy.in_force("lpr", dt.date(2024, 12, 31)).id == "earlier"
    assert policy.in_force("lpr", dt.date(2025, 1, 1))["one_year"] == Decimal("0.0290")
    assert policy.in_force("lpr", dt.date(2040, 1, 1)).id == "later"
    with pytest.raises(NoRule, match="no lpr rule is in force on 2022-12-31"):
        policy.in_force("lpr", dt.date(2022, 12, 31))
    cited = policy.find("lpr", "earlier").cite()
    assert cited == {
        "id": "earlier",
        "source": "test",
        "effective_from": "2023-01-01",
        "effective_to": "2024-12-31",
        "unverified": False,
        "demo": False,
    }


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"lpr": [lpr("a", "2023-01-01"), lpr("b", "2024-01-01")]}, "entries a and b overlap"),
        ({"lpr": [lpr("a", "2023-01-01", "2022-01-01")]}, "effective_to is before"),
        ({"lpr": [lpr("a", "2023-01-01", one_year="1.5")]}, r"lpr\[0\] \(a\).*one_year"),
        ({"lpr": [lpr("a", "2023-01-01", source="")]}, "source"),
        (
            {"lpr": [lpr("a", "2023-01-01", "2023-12-31"), lpr("a", "2024-01-01")]},
            "entry id a appears twice",
        ),
        ({"lrp": []}, r"unknown sections \['lrp'\]"),
        ({"lpr": {"id": "a"}}, "lpr is not a list"),
    ],
)
def test_a_bad_file_is_refused_naming_the_problem(tmp_path, sections, message):
    with pytest.raises(ValueError, match=message):
        load_policy(write(tmp_path, **sections))
