"""followup's retention rules without servers: overdue, outcomes and statuses as signals,
retention arithmetic."""

import datetime as dt

import pytest

from services.followup import domain

D = dt.date


def test_overdue_is_past_the_grace_period():
    assert not domain.is_overdue(D(2026, 11, 9), D(2026, 11, 16), 7)
    assert domain.is_overdue(D(2026, 11, 9), D(2026, 11, 17), 7)


def test_the_latest_signal_before_a_day_decides_whether_a_veteran_still_works():
    start = D(2026, 1, 1)
    signals = [(D(2026, 2, 1), False), (D(2026, 3, 1), True)]
    assert domain.employed_at(start, D(2026, 1, 31), signals) is True
    assert domain.employed_at(start, D(2026, 2, 15), signals) is False
    assert domain.employed_at(start, D(2026, 4, 1), signals) is True
    assert domain.employed_at(start, D(2026, 4, 1), [(D(2025, 12, 1), False)]) is True
    assert not domain.continuously_employed(start, 60, signals)
    assert domain.continuously_employed(start, 30, signals)


def test_retention_judges_only_hires_old_enough():
    hires = [("a", D(2026, 1, 1)), ("b", D(2026, 1, 1)), ("c", D(2026, 10, 1))]
    got = domain.retention(hires, {"b": [(D(2026, 5, 1), False)]}, D(2026, 11, 1))
    assert got["day_90"] == {"hires": 2, "retained": 2, "rate": 1.0}
    assert got["day_180"] == {"hires": 2, "retained": 1, "rate": 0.5}
    assert got["continuous_60"] == {"hires": 2, "retained": 2, "rate": 1.0}
    assert domain.retention([], {}, D(2026, 11, 1))["day_90"]["rate"] is None


@pytest.mark.parametrize(
    "outcome,working",
    [
        ("employed_same", True),
        ("employed_other", True),
        ("business_operating", True),
        ("left_job", False),
        ("business_closed", False),
        ("unreachable", None),
    ],
)
def test_each_outcome_says_whether_the_veteran_works(outcome, working):
    assert domain.is_working(outcome=outcome) is working


def test_statuses_and_outcomes_become_dated_signals_and_unreachable_says_nothing():
    got = domain.signals(
        [
            ("v1", D(2026, 2, 1), "unemployed"),
            ("v1", D(2026, 3, 1), "flexible"),
            ("v2", D(2026, 2, 1), "in_training"),
        ],
        [("v1", D(2026, 4, 1), "unreachable"), ("v2", D(2026, 5, 1), "employed_other")],
    )
    assert got == {
        "v1": [(D(2026, 2, 1), False), (D(2026, 3, 1), True)],
        "v2": [(D(2026, 2, 1), False), (D(2026, 5, 1), True)],
    }


def test_a_hire_exactly_90_days_old_is_judged_and_one_a_day_younger_is_not():
    today = D(2026, 4, 1)
    judged, young = today - dt.timedelta(days=90), today - dt.timedelta(days=89)
    got = domain.retention([("a", judged), ("b", young)], {}, today)
    assert got["day_90"] == {"hires": 1, "retained": 1, "rate": 1.0}
    assert got["continuous_60"] == {"hires": 2, "retained": 2, "rate": 1.0}
    assert got["day_180"] == {"hires": 0, "retained": 0, "rate": None}


def test_leaving_on_day_61_keeps_the_60_continuous_days_but_not_day_90():
    start = D(2026, 1, 1)
    left = [(start + dt.timedelta(days=61), False)]
    got = domain.retention([("a", start)], {"a": left}, D(2026, 12, 31))
    assert got["continuous_60"]["retained"] == 1
    assert got["day_90"]["retained"] == 0
    back = left + [(start + dt.timedelta(days=80), True)]
    assert domain.retention([("a", start)], {"a": back}, D(2026, 12, 31))["day_90"]["retained"] == 1
