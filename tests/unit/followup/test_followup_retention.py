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


def test_retention_by_month_judges_hires_in_the_month_their_ninety_days_end():
    months = ["2026-03", "2026-04", "2026-05"]
    hires = [
        ("a", D(2026, 1, 1)),  # day 90: 1 April, still working
        ("b", D(2026, 1, 1)),  # left on 1 March: not retained on 1 April
        ("c", D(2025, 12, 31)),  # day 90: 31 March
        ("d", D(2026, 2, 20)),  # day 90: 21 May, after today: not judged yet
    ]
    signals = {"b": [(D(2026, 3, 1), False)]}
    got = domain.retention_by_month(hires, signals, D(2026, 5, 10), months)
    assert got == {
        "2026-03": {"hires_judged": 1, "retained": 1, "retention_90": 1.0},
        "2026-04": {"hires_judged": 2, "retained": 1, "retention_90": 0.5},
        "2026-05": {"hires_judged": 0, "retained": 0, "retention_90": None},
    }


def test_the_monthly_series_puts_revisits_beside_retention_with_averages_rounded():
    months = ["2026-04", "2026-05"]
    retained = domain.retention_by_month([], {}, D(2026, 5, 10), months)
    got = domain.by_month(
        retained, {"2026-05": {"revisits_done": 3, "satisfaction": 4.3333}}, months
    )
    assert got["2026-05"]["revisits_done"] == 3 and got["2026-05"]["satisfaction"] == 4.33
    assert got["2026-04"] == {
        "hires_judged": 0,
        "retained": 0,
        "retention_90": None,
        "revisits_done": 0,
        "satisfaction": None,
    }
