"""training's rules without servers: bases, courses and cohorts, enrollment, pass marks,
results and certificates, mentors and competitions."""

import datetime as dt
from dataclasses import asdict

import pytest

from services.training import domain
from shared.errors import Conflict, InvalidInput
from tests.unit.training.training_records import (
    NOW,
    TODAY,
    make_base,
    make_cohort,
    make_competition,
    make_course,
    make_enrollment,
    make_entry,
    make_veteran,
    origin,
)

COURSE = make_course(theory_pass=60, practical_pass=70)


@pytest.mark.parametrize(
    "theory,practical,passed",
    [(60, 70, True), (100, 100, True), (59, 100, False), (100, 69, False), (0, 0, False)],
)
def test_both_pass_marks_must_be_reached(theory, practical, passed):
    assert domain.passed(COURSE, theory, practical) is passed


def test_certificate_numbers_carry_year_county_and_a_running_number():
    assert domain.cert_no(dt.date(2026, 12, 30), "652301", 42) == "TR20266523010000042"


# -- bases, courses, cohorts ----------------------------------------------------------------
COURSE_COMMAND = {
    "title": "消防设施操作员（初级）",
    "occupation": "fire_facility_operator",
    "certificate_name": "消防设施操作员证",
    "skills_granted": ["fire_facility_operator"],
    "theory_hours": 40,
    "practical_hours": 60,
    "mode": "hybrid",
    "base_id": "b1",
    "theory_pass": 60,
    "practical_pass": 60,
}


def test_a_base_is_made_from_the_command_with_who_and_when():
    base = domain.new_base(
        {
            "name": "基地",
            "kind": "incubation",
            "county_code": "652301",
            "capacity": 5,
            "operator": None,
        },
        origin("b9"),
    )
    assert (base.id, base.kind, base.created_at, base.created_by) == (
        "b9",
        "incubation",
        NOW,
        "op-1",
    )


def test_a_course_is_taught_at_a_training_base_and_belongs_to_its_county():
    course = domain.open_course(make_base(county_code="652323"), COURSE_COMMAND, origin("c9"))
    assert (course.id, course.county_code, course.base_id) == ("c9", "652323", "b1")
    with pytest.raises(InvalidInput) as refused:
        domain.open_course(make_base(kind="incubation"), COURSE_COMMAND, origin())
    assert refused.value.errors == {"base_id": ["is an incubation base, not a training base"]}


def test_a_cohort_may_start_today_but_not_in_the_past():
    command = {"starts_on": TODAY, "ends_on": TODAY + dt.timedelta(days=30), "capacity": 10}
    cohort = domain.open_cohort(make_course(county_code="652323"), command, TODAY, origin("h9"))
    assert (cohort.id, cohort.course_id, cohort.county_code, cohort.enrolled) == (
        "h9",
        "c1",
        "652323",
        0,
    )
    with pytest.raises(InvalidInput) as refused:
        domain.open_cohort(
            make_course(), {**command, "starts_on": TODAY - dt.timedelta(days=1)}, TODAY, origin()
        )
    assert list(refused.value.errors) == ["starts_on"]


# -- enrollment and results -----------------------------------------------------------------
def test_an_enrollment_is_the_veterans_countys_and_announced_as_enrolled():
    enrollment, events = domain.enroll(
        make_cohort(county_code="652301"), make_veteran(county_code="652302"), TODAY, origin("e9")
    )
    assert (enrollment.id, enrollment.county_code, enrollment.status, enrollment.enrolled_at) == (
        "e9",
        "652302",
        "enrolled",
        NOW,
    )
    assert [(e.type, e.data) for e in events] == [
        (
            "enrolled",
            {"enrollment_id": "e9", "veteran_id": "v1", "cohort_id": "h1", "course_id": "c1"},
        )
    ]


def test_a_cohort_that_has_started_takes_no_enrollment_but_one_starting_today_does():
    with pytest.raises(Conflict, match="the cohort has started") as refused:
        domain.enroll(
            make_cohort(starts_on=TODAY - dt.timedelta(days=1)), make_veteran(), TODAY, origin()
        )
    assert refused.value.details == {"cohort_id": "h1"}
    assert domain.enroll(make_cohort(starts_on=TODAY), make_veteran(), TODAY, origin())[0]


def test_only_an_enrolled_veteran_withdraws():
    withdrawn = domain.withdraw(make_enrollment(), NOW)
    assert (withdrawn.status, withdrawn.withdrawn_at) == ("withdrawn", NOW)
    with pytest.raises(Conflict, match="the enrollment is withdrawn") as refused:
        domain.withdraw(withdrawn, NOW)
    assert refused.value.details == {"enrollment_id": "e1"}


def test_a_result_completes_the_enrollment_and_announces_whether_it_passed():
    completed, events = domain.record_result(make_enrollment(), COURSE, 60, 70, TODAY)
    assert (
        completed.status,
        completed.passed,
        completed.completed_on,
        completed.theory_score,
        completed.practical_score,
    ) == ("completed", True, TODAY, 60, 70)
    assert [(e.type, e.data) for e in events] == [
        (
            "training_completed",
            {"enrollment_id": "e1", "veteran_id": "v1", "course_id": "c1", "passed": True},
        )
    ]
    failed, events = domain.record_result(make_enrollment(), COURSE, 60, 69, TODAY)
    assert failed.passed is False and events[0].data["passed"] is False


def test_a_result_is_recorded_once_for_an_enrolled_veteran():
    for status in ("completed", "withdrawn"):
        with pytest.raises(Conflict, match=f"the enrollment is {status}: a result is "):
            domain.record_result(make_enrollment(status=status), COURSE, 90, 90, TODAY)


def test_a_certificate_names_the_course_its_skills_and_the_day_of_the_result():
    course = make_course(skills_granted=["welder", "cook"], skill_level="level_4")
    completed, _ = domain.record_result(
        make_enrollment(county_code="652302"), course, 80, 80, TODAY
    )
    certificate, events = domain.certify(completed, course, 42, "t9")
    assert asdict(certificate) == {
        "id": "t9",
        "cert_no": "TR20266523020000042",
        "enrollment_id": "e1",
        "veteran_id": "v1",
        "course_id": "c1",
        "certificate_name": "消防设施操作员证",
        "skills": ["welder", "cook"],
        "issued_on": TODAY,
        "skill_level": "level_4",
    }
    assert [(e.type, e.data) for e in events] == [
        (
            "certificate_issued",
            {
                "veteran_id": "v1",
                "certificate_name": "消防设施操作员证",
                "cert_no": "TR20266523020000042",
                "skills_granted": ["welder", "cook"],
                "issued_on": TODAY,
                "skill_level": "level_4",
            },
        )
    ]


# -- mentors and competitions ---------------------------------------------------------------
def test_a_mentor_of_any_county_is_assigned_in_the_veterans_county():
    mentor = domain.new_mentor(
        {"name": "王师傅", "field": "农业", "county_code": "652301"}, origin("m1")
    )
    assignment = domain.assign(make_veteran(county_code="652302"), mentor, NOW, "op-2")
    assert asdict(assignment) == {
        "veteran_id": "v1",
        "mentor_id": "m1",
        "county_code": "652302",
        "assigned_at": NOW,
        "assigned_by": "op-2",
    }


def test_a_prefecture_wide_competition_needs_a_prefecture_operator():
    command = {"year": 2026, "title": "大赛", "groups": ["services"], "county_code": None}
    assert domain.new_competition(command, True, origin("k9")).county_code is None
    with pytest.raises(InvalidInput) as refused:
        domain.new_competition(command, False, origin())
    assert list(refused.value.errors) == ["county_code"]
    county = domain.new_competition({**command, "county_code": "652301"}, False, origin("k8"))
    assert (county.id, county.county_code) == ("k8", "652301")


def test_an_entry_names_one_of_the_competitions_groups():
    competition = make_competition(county_code="652301")
    entry = domain.enter(
        competition, make_veteran(county_code="652302"), "大棚", "services", "n9", NOW
    )
    assert (entry.id, entry.county_code, entry.group, entry.awarded_at) == (
        "n9",
        "652302",
        "services",
        None,
    )
    with pytest.raises(InvalidInput) as refused:
        domain.enter(competition, make_veteran(), "大棚", "sports", "n8", NOW)
    assert refused.value.errors == {"group": ["must be one of modern_agriculture, services"]}


def test_an_entry_is_awarded_once():
    awarded = domain.award(make_entry(), "一等奖", 1, NOW)
    assert (awarded.prize, awarded.rank, awarded.awarded_at) == ("一等奖", 1, NOW)
    with pytest.raises(Conflict, match="awarded already") as refused:
        domain.award(awarded, "二等奖", 2, NOW)
    assert refused.value.details == {"entry_id": "n1"}
