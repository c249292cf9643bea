"""jobs' rules without servers: the pipeline, the reasons beside a score, the projection."""
import datetime as dt
from dataclasses import replace

import pytest

from services.jobs import domain
from services.jobs.domain import Employer, Posting
from services.jobs.matching import reasons, wanted_counties
from services.jobs.projection_domain import VeteranFacts, facts_of, union


@pytest.mark.parametrize("current,target,allowed", [
    ("submitted", "interviewing", True), ("submitted", "offered", True),
    ("interviewing", "offered", True), ("offered", "hired", True),
    ("submitted", "hired", False), ("interviewing", "hired", False),
    ("hired", "withdrawn", False), ("rejected", "interviewing", False),
    ("withdrawn", "offered", False), ("offered", "submitted", False),
])
def test_the_pipeline_allows_only_its_moves(current, target, allowed):
    assert domain.may_move(current, target) is allowed


def test_an_illegal_move_says_what_is_possible():
    assert domain.illegal_move("submitted", "hired") == (
        "an application that is submitted cannot become hired; it can become interviewing, "
        "offered, rejected, withdrawn")
    assert domain.illegal_move("hired", "rejected").endswith("it is final")


NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)


def veteran(**facts):
    return VeteranFacts(**{
        "veteran_id": "v", "county_code": "652301", "skills": ["driver_b2"],
        "certificates": [], "occupations": ["driver"], "counties": [], "min_salary": 4000,
        "willingness": "job", "employment_status": "unemployed", **facts})


def posting(**fields):
    return Posting(**{
        "id": "p", "employer_id": "e", "title": "驾驶员", "salary_min": 3000,
        "openings": 3, "closes_on": dt.date(2026, 12, 31), "created_at": NOW, "updated_at": NOW,
        "skills_required": ["driver_b2", "logistics"], "certificates_preferred": ["B2证"],
        "occupation": "driver", "county_code": "652301", "salary_max": 3500,
        "dedicated": True, **fields})


def test_reasons_name_matched_and_missing_skills_county_and_salary():
    why = reasons(veteran(certificates=["B2证"]), posting())
    assert why == {"matched_skills": ["driver_b2"], "missing_skills": ["logistics"],
                   "certificates": ["B2证"], "occupation_wanted": True,
                   "county": {"posting": "652301", "wanted": True},
                   "salary": {"max": 3500, "floor": 4000, "meets_floor": False},
                   "dedicated": True}


def test_a_veteran_who_names_no_county_wants_their_own():
    assert wanted_counties(veteran()) == ["652301"]
    assert wanted_counties(veteran(counties=["652302", "652323"])) == ["652302", "652323"]
    assert reasons(veteran(counties=["652302"]), posting())["county"]["wanted"] is False
    assert reasons(veteran(min_salary=None), posting())["salary"]["meets_floor"] is True


def test_the_projection_takes_facts_and_no_identifiers():
    data = {"veteran_id": "v1", "county_code": "652301", "skills": ["cook"], "certificates": [],
            "intentions": {"occupations": ["cook"], "counties": ["652302"], "min_salary": 3000},
            "willingness": "job", "employment_status": "unemployed", "gender": "male",
            "birth_year": 1990}
    assert facts_of(data) == VeteranFacts(
        veteran_id="v1", county_code="652301", skills=["cook"], certificates=[],
        occupations=["cook"], counties=["652302"], min_salary=3000,
        willingness="job", employment_status="unemployed")
    assert facts_of({**data, "intentions": None}).occupations == []


def test_union_keeps_order_and_adds_only_new_items():
    assert union(["a", "b"], ["b", "c", "a", "d"]) == ["a", "b", "c", "d"]


def test_a_posting_past_its_date_is_presented_closed():
    row = posting(openings=3, hired=1, status="open", closed_reason=None,
                  closes_on=dt.date(2026, 11, 27), created_by="op")
    shown = domain.present_posting(row, dt.date(2026, 11, 28))
    assert shown["status"] == "closed" and shown["closed_reason"] == "expired"
    assert shown["remaining"] == 2 and "created_by" not in shown
    assert domain.present_posting(row, dt.date(2026, 11, 27))["status"] == "open"


def test_an_employer_is_presented_with_its_contact_phone_masked():
    row = Employer(id="e-1", name="昌吉市顺达物流有限公司", uscc=None, county_code="652301",
                   industry="logistics", created_at=NOW, contact_name="司马光明",
                   contact_phone="13655554444", created_by="op-1")
    reply = domain.present_employer(row)
    assert reply["contact_phone"] == "136****4444"
    assert "created_by" not in reply and row.contact_phone == "13655554444"
    assert domain.present_employer(replace(row, contact_phone=None))["contact_phone"] is None
