"""training's rules for what follows a course, without servers: recommendations and
placement within 90 days."""
import datetime as dt

from services.training import placement_domain as domain
from tests.unit.training.training_records import make_veteran


def cohort(id_, skills, occupation="driver", county="652301", starts=dt.date(2027, 1, 1)):
    return {"id": id_, "skills_granted": skills, "occupation": occupation,
            "county_code": county, "starts_on": starts}


def test_recommendations_rank_by_points_and_skip_courses_with_nothing_new():
    veteran = make_veteran(skills=["driver_b2"], occupations=["drone_pilot"],
                           service_needs=["skills_training"], county_code="652301")
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


def test_recommendations_are_stored_per_veteran_in_id_order_best_first():
    cohorts = [cohort("a", ["cook"]), cohort("b", ["welder"], "welder")]
    veterans = [make_veteran(veteran_id="v2", occupations=["welder"]),
                make_veteran(veteran_id="v1", skills=["cook"])]
    assert domain.recommendations(veterans, cohorts, 10) == [
        ("v1", [("b", 30)]), ("v2", [("b", 70), ("a", 30)])]


def test_the_placement_report_counts_each_cohort_and_the_course():
    done = dt.date(2026, 6, 30)
    graduates = [("h2", "v1", done), ("h1", "v2", done), ("h1", "v3", done)]
    report = domain.placement_report(graduates, {"v1": [dt.date(2026, 7, 1)],
                                                 "v2": [dt.date(2026, 7, 2)]})
    assert report == {
        "graduates": 3, "placed_within_90_days": 2, "rate": 0.6667,
        "cohorts": [{"cohort_id": "h1", "graduates": 2, "placed_within_90_days": 1,
                     "rate": 0.5},
                    {"cohort_id": "h2", "graduates": 1, "placed_within_90_days": 1,
                     "rate": 1.0}]}
    assert domain.placement_report([], {}) == {"graduates": 0, "placed_within_90_days": 0,
                                               "rate": None, "cohorts": []}
