"""training's rules without servers: pass marks, certificate numbers, recommendations and
placement within 90 days."""
import datetime as dt

import pytest

from services.training import domain
from services.training.service import projection

COURSE = {"theory_pass": 60, "practical_pass": 70}


@pytest.mark.parametrize("theory,practical,passed", [
    (60, 70, True), (100, 100, True), (59, 100, False), (100, 69, False), (0, 0, False)])
def test_both_pass_marks_must_be_reached(theory, practical, passed):
    assert domain.passed(COURSE, theory, practical) is passed


def test_certificate_numbers_carry_year_county_and_a_running_number():
    assert domain.cert_no(dt.date(2026, 12, 30), "652301", 42) == "TR20266523010000042"


def cohort(id_, skills, occupation="driver", county="652301", starts=dt.date(2027, 1, 1)):
    return {"id": id_, "skills_granted": skills, "occupation": occupation,
            "county_code": county, "starts_on": starts}


def test_recommendations_rank_by_points_and_skip_courses_with_nothing_new():
    veteran = {"skills": ["driver_b2"], "occupations": ["drone_pilot"],
               "service_needs": ["skills_training"], "county_code": "652301"}
    ranked = domain.recommend(veteran, [
        cohort("a", ["driver_b2"]),                                   # nothing new
        cohort("b", ["drone_pilot", "driver_b2"], "drone_pilot"),     # 15 + 40 + 20 + 10
        cohort("c", ["cook"], county="652302"),                       # 30 + 20
        cohort("d", ["welder"], starts=dt.date(2026, 12, 1)),          # 30 + 20 + 10, sooner
        cohort("e", ["welder"]),                                      # same, later
    ])
    assert [(c["id"], score) for c, score, _ in ranked] == [
        ("b", 85), ("d", 60), ("e", 60), ("c", 50)]
    assert ranked[0][2] == {"new_skills": ["drone_pilot"], "occupation_wanted": True,
                            "needs_training": True, "in_county": True}
    assert len(domain.recommend(veteran, [cohort(str(i), ["cook"]) for i in range(20)], 5)) == 5


def test_a_placement_counts_from_the_day_before_training_ends_to_90_days_after():
    done = dt.date(2026, 6, 30)
    assert domain.placed_within(done, [dt.date(2026, 9, 28)])          # day 90
    assert not domain.placed_within(done, [dt.date(2026, 9, 29)])      # day 91
    assert domain.placed_within(done, [dt.date(2026, 6, 29)])          # agreed during
    assert not domain.placed_within(done, [dt.date(2026, 5, 1)])       # long before
    figures = domain.placement_figures(
        [("v1", done), ("v2", done), ("v3", done)],
        {"v1": [dt.date(2026, 7, 15)], "v3": [dt.date(2027, 1, 1)]})
    assert figures == {"graduates": 3, "placed_within_90_days": 1, "rate": 0.3333}
    assert domain.placement_figures([], {})["rate"] is None


def test_the_projection_keeps_facts_only():
    row = projection({"veteran_id": "v", "county_code": "652301", "skills": ["cook"],
                      "service_needs": ["skills_training"], "willingness": "job",
                      "employment_status": "unemployed", "gender": "male",
                      "intentions": {"occupations": ["cook"], "counties": [], "min_salary": 1}})
    assert row == {"veteran_id": "v", "county_code": "652301", "skills": ["cook"],
                   "occupations": ["cook"], "service_needs": ["skills_training"],
                   "willingness": "job", "employment_status": "unemployed"}
