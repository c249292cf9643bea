"""Records for followup's unit tests: ``make_<record>(**overrides)``."""

import datetime as dt

from services.followup import domain

NOW = dt.datetime(2026, 11, 9, 2, 0, tzinfo=dt.UTC)  # 10:00 in Changji
TODAY = dt.date(2026, 11, 9)
DEPARTMENTS = {
    "wages": "人力资源和社会保障局劳动保障监察大队",
    "contract": "人力资源和社会保障局劳动关系科",
    "social_insurance": "社会保险事业管理中心",
    "skills": "退役军人服务中心就业创业科",
    "housing": "住房和城乡建设局",
    "family": "退役军人服务中心权益保障科",
    "other": "退役军人事务局",
}
PLANS = {
    "plans": {"employment": [7, 30], "business": [30]},
    "grace_days": 7,
    "departments": DEPARTMENTS,
}


def make_revisit(**overrides):
    return domain.Revisit(
        **{
            "id": "r1",
            "veteran_id": "v1",
            "county_code": "652301",
            "kind": "employment",
            "cause_event_id": "e1",
            "cause_type": "veteran_hired",
            "due_on": TODAY,
            "status": "due",
            "due_at": NOW,
            "created_at": NOW - dt.timedelta(days=7),
            **overrides,
        }
    )


def make_issue(**overrides):
    return domain.Issue(
        **{
            "id": "i1",
            "revisit_id": "r1",
            "veteran_id": "v1",
            "county_code": "652301",
            "category": "wages",
            "department": DEPARTMENTS["wages"],
            "description": "加班费未按时发放",
            "raised_at": NOW,
            **overrides,
        }
    )


def completion(**overrides):
    """``complete_revisit``'s input as the schema loads it."""
    return {
        "contacted_on": TODAY,
        "outcome": "employed_same",
        "veteran_satisfaction": 4,
        "employer_rating": None,
        "problems": [],
        **overrides,
    }


def contact_input(**overrides):
    """``record_contact``'s input as the schema loads it."""
    return {
        "veteran_id": None,
        "county_code": None,
        "channel": "phone",
        "topic": "policy_consultation",
        "notes": None,
        **overrides,
    }
