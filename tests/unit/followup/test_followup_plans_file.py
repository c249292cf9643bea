"""followup's plans file: the default one loads, a bad one stops the service."""

import pytest

from services.followup.domain import CATEGORIES
from services.followup.plans import load_plans


def test_the_default_plans_file_loads_with_a_department_for_every_category():
    plans = load_plans()
    assert plans["plans"] == {"employment": [7, 30, 90, 180], "business": [30, 90, 180]}
    assert set(plans["departments"]) == set(CATEGORIES)


def test_a_plans_file_missing_a_department_is_refused(tmp_path):
    path = tmp_path / "plans.yaml"
    path.write_text(
        "plans: {employment: [7]}\ngrace_days: 7\ndepartments: {wages: 劳动监察}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="no department for"):
        load_plans(path)
    path.write_text("plans: {employment: [0]}\ngrace_days: 7\ndepartments: {}\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_plans(path)


def test_the_plans_file_named_by_plans_file_is_the_one_read(tmp_path, monkeypatch):
    path = tmp_path / "plans.yaml"
    departments = ", ".join(f"{category}: 民政局" for category in CATEGORIES)
    path.write_text(
        f"plans: {{business: [10]}}\ngrace_days: 3\ndepartments: {{{departments}}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PLANS_FILE", str(path))
    assert load_plans() == {
        "plans": {"business": [10]},
        "grace_days": 3,
        "departments": dict.fromkeys(CATEGORIES, "民政局"),
    }
