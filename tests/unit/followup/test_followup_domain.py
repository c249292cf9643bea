"""followup's rules without servers: the plans file, dates, overdue, retention arithmetic."""
import datetime as dt

import pytest

from services.followup import domain

D = dt.date


def test_the_default_plans_file_loads_with_a_department_for_every_category():
    plans = domain.load_plans()
    assert plans["plans"] == {"employment": [7, 30, 90, 180], "business": [30, 90, 180]}
    assert set(plans["departments"]) == set(domain.CATEGORIES)


def test_a_plans_file_missing_a_department_is_refused(tmp_path):
    path = tmp_path / "plans.yaml"
    path.write_text("plans: {employment: [7]}\ngrace_days: 7\ndepartments: {wages: 劳动监察}\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match="no department for"):
        domain.load_plans(path)
    path.write_text("plans: {employment: [0]}\ngrace_days: 7\ndepartments: {}\n", encoding="utf-8")
    with pytest.raises(ValueError):
        domain.load_plans(path)


def test_plans_are_days_after_the_start_in_order():
    assert domain.plan(D(2026, 11, 2), [30, 7, 7]) == [D(2026, 11, 9), D(2026, 12, 2)]


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
