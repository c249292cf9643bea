"""training's rules around its courses, without servers: what registry's and jobs' events
tell it, recommendations and placement within 90 days."""

import datetime as dt
from dataclasses import asdict

from services.training import placement_domain as domain
from services.training.placement_domain import projection
from shared.contracts import ReceivedEvent
from tests.unit.training.training_records import TODAY, make_open_cohort, make_veteran


def cohort(id_, skills, occupation="driver", county="652301", starts=dt.date(2027, 1, 1)):
    return make_open_cohort(
        id=id_, skills_granted=skills, occupation=occupation, county_code=county, starts_on=starts
    )


def test_recommendations_rank_by_points_and_skip_courses_with_nothing_new():
    veteran = make_veteran(
        skills=["driver_b2"],
        occupations=["drone_pilot"],
        service_needs=["skills_training"],
        county_code="652301",
    )
    ranked = domain.recommend(
        veteran,
        [
            cohort("a", ["driver_b2"]),  # nothing new
            cohort("b", ["drone_pilot", "driver_b2"], "drone_pilot"),  # 15 + 40 + 20 + 10
            cohort("c", ["cook"], county="652302"),  # 30 + 20
            cohort("d", ["welder"], starts=dt.date(2026, 12, 1)),  # 30 + 20 + 10, sooner
            cohort("e", ["welder"]),  # same, later
        ],
    )
    assert [(c.id, score) for c, score, _ in ranked] == [("b", 85), ("d", 60), ("e", 60), ("c", 50)]
    assert ranked[0][2] == {
        "new_skills": ["drone_pilot"],
        "occupation_wanted": True,
        "needs_training": True,
        "in_county": True,
    }
    assert len(domain.recommend(veteran, [cohort(str(i), ["cook"]) for i in range(20)], 5)) == 5


def test_a_placement_counts_from_the_day_before_training_ends_to_90_days_after():
    done = dt.date(2026, 6, 30)
    assert domain.placed_within(done, [dt.date(2026, 9, 28)])  # day 90
    assert not domain.placed_within(done, [dt.date(2026, 9, 29)])  # day 91
    assert domain.placed_within(done, [dt.date(2026, 6, 29)])  # agreed during
    assert not domain.placed_within(done, [dt.date(2026, 5, 1)])  # long before
    figures = domain.placement_figures(
        [("v1", done), ("v2", done), ("v3", done)],
        {"v1": [dt.date(2026, 7, 15)], "v3": [dt.date(2027, 1, 1)]},
    )
    assert figures == {"graduates": 3, "placed_within_90_days": 1, "rate": 0.3333}
    assert domain.placement_figures([], {})["rate"] is None


def test_recommendations_are_stored_per_veteran_in_id_order_best_first():
    cohorts = [cohort("a", ["cook"]), cohort("b", ["welder"], "welder")]
    veterans = [
        make_veteran(veteran_id="v2", occupations=["welder"]),
        make_veteran(veteran_id="v1", skills=["cook"]),
    ]
    assert domain.recommendations(veterans, cohorts, 10) == [
        ("v1", [("b", 30)]),
        ("v2", [("b", 70), ("a", 30)]),
    ]


def test_the_placement_report_counts_each_cohort_and_the_course():
    done = dt.date(2026, 6, 30)
    graduates = [("h2", "v1", done), ("h1", "v2", done), ("h1", "v3", done)]
    report = domain.placement_report(
        graduates, {"v1": [dt.date(2026, 7, 1)], "v2": [dt.date(2026, 7, 2)]}
    )
    assert report == {
        "graduates": 3,
        "placed_within_90_days": 2,
        "rate": 0.6667,
        "cohorts": [
            {"cohort_id": "h1", "graduates": 2, "placed_within_90_days": 1, "rate": 0.5},
            {"cohort_id": "h2", "graduates": 1, "placed_within_90_days": 1, "rate": 1.0},
        ],
    }
    assert domain.placement_report([], {}) == {
        "graduates": 0,
        "placed_within_90_days": 0,
        "rate": None,
        "cohorts": [],
    }


def test_the_projection_keeps_facts_only():
    row = projection(
        {
            "veteran_id": "v",
            "county_code": "652301",
            "skills": ["cook"],
            "service_needs": ["skills_training"],
            "willingness": "job",
            "employment_status": "unemployed",
            "gender": "male",
            "intentions": {"occupations": ["cook"], "counties": [], "min_salary": 1},
        }
    )
    assert asdict(row) == {
        "veteran_id": "v",
        "county_code": "652301",
        "skills": ["cook"],
        "occupations": ["cook"],
        "service_needs": ["skills_training"],
        "willingness": "job",
        "employment_status": "unemployed",
    }


# -- events from registry and jobs ----------------------------------------------------------
def received(event_type, **data):
    return ReceivedEvent(
        event_id=f"ev-{event_type}",
        type=event_type,
        source="x",
        occurred_at="2026-11-02T02:00:00+00:00",
        correlation_id=None,
        version=1,
        data=data,
    )


SNAPSHOT = {
    "veteran_id": "v1",
    "county_code": "652301",
    "skills": [],
    "willingness": "job",
    "employment_status": "unemployed",
}


def test_events_become_the_newest_facts_per_veteran_and_placements():
    veterans, placements = domain.read_events(
        [
            received("veteran_registered", **SNAPSHOT),
            received("veteran_updated", snapshot={**SNAPSHOT, "county_code": "652323"}),
            received("veteran_hired", veteran_id="v2", started_on=TODAY),
            received(
                "enterprise_registered", founder_ids=["v3", "v4"], founded_on=dt.date(2026, 10, 1)
            ),
        ]
    )
    assert {v: veteran.county_code for v, veteran in veterans.items()} == {"v1": "652323"}
    assert [asdict(p) for p in placements] == [
        {"veteran_id": "v2", "event_id": "ev-veteran_hired", "kind": "hired", "placed_on": TODAY},
        {
            "veteran_id": "v3",
            "event_id": "ev-enterprise_registered",
            "kind": "enterprise",
            "placed_on": dt.date(2026, 10, 1),
        },
        {
            "veteran_id": "v4",
            "event_id": "ev-enterprise_registered",
            "kind": "enterprise",
            "placed_on": dt.date(2026, 10, 1),
        },
    ]


def test_graduates_placed_count_in_the_month_of_their_first_placement_that_counts():
    months = ["2026-03", "2026-04", "2026-05", "2026-06"]
    graduates = [
        ("a", dt.date(2026, 3, 31)),  # hired 1 April: April
        ("b", dt.date(2026, 3, 31)),  # hired the day before it ended: March
        ("c", dt.date(2026, 3, 31)),  # hired 91 days later: not a placement after training
        ("d", dt.date(2026, 4, 15)),  # two placements: the first decides (April)
        ("e", dt.date(2026, 4, 15)),  # never placed
    ]
    placements = {
        "a": [dt.date(2026, 4, 1)],
        "b": [dt.date(2026, 3, 30)],
        "c": [dt.date(2026, 6, 30)],
        "d": [dt.date(2026, 5, 20), dt.date(2026, 4, 20)],
    }
    got = domain.placed_by_month(graduates, placements, months)
    assert got == {
        "2026-03": {"placed_after_training": 1},
        "2026-04": {"placed_after_training": 2},
        "2026-05": {"placed_after_training": 0},
        "2026-06": {"placed_after_training": 0},
    }
    # The same graduates as the 90-day figure counts.
    figures = domain.placement_figures(graduates, placements)
    assert figures["placed_within_90_days"] == sum(m["placed_after_training"] for m in got.values())


def test_a_placement_before_the_months_shown_is_left_out():
    got = domain.placed_by_month(
        [("a", dt.date(2025, 12, 20))], {"a": [dt.date(2025, 12, 28)]}, ["2026-01"]
    )
    assert got == {"2026-01": {"placed_after_training": 0}}
