"""training: course recommendations, placement of graduates from jobs' and registry's
events, mentors, the startup competition and statistics."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_container

from services.training.service import TrainingService
from shared.clock import Clock, FrozenClock
from shared.errors import Conflict, InvalidInput, NotFound
from tests.conftest import token
from tests.helpers import bureau_today, envelope, publish, scalar
from tests.integration.training.conftest import in_days


def test_courses_are_recommended_by_wanted_occupation_missing_skills_need_and_county(
    training, rpc, base, course, cohort, trained_veteran, db
):
    drones = rpc.training.open_course(
        {
            "title": "植保无人机驾驶",
            "occupation": "drone_pilot",
            "certificate_name": "无人机驾驶证",
            "skills_granted": ["drone_pilot", "agriculture"],
            "theory_hours": 20,
            "practical_hours": 40,
            "mode": "offline",
            "base_id": base["id"],
        }
    )
    drone_cohort = rpc.training.open_cohort(
        drones["id"], {"starts_on": in_days(10), "ends_on": in_days(20), "capacity": 10}
    )
    veteran = trained_veteran(
        skills=["agriculture"],
        service_needs=["skills_training"],
        intentions={"occupations": ["drone_pilot"], "counties": [], "min_salary": None},
    )
    ranked = rpc.training.recommend_courses(veteran["veteran_id"])
    assert [(r["cohort"]["id"], r["score"]) for r in ranked] == [
        (drone_cohort["id"], 15 + 40 + 20 + 10),
        (cohort["id"], 30 + 20 + 10),
    ]
    assert ranked[0]["reasons"]["new_skills"] == ["drone_pilot"]
    # The projection's refresh (the cohorts were open before the veteran's event came)
    # stored the same list.
    stored = scalar(
        db,
        "SELECT array_agg(cohort_id::text ORDER BY rank)"
        " FROM training.recommendations WHERE veteran_id = %s",
        veteran["veteran_id"],
    )
    assert stored == [drone_cohort["id"], cohort["id"]]
    # Someone who holds every skill a course grants is not offered it.
    expert = trained_veteran(skills=["fire_facility_operator", "drone_pilot", "agriculture"])
    assert rpc.training.recommend_courses(expert["veteran_id"]) == []


def test_placement_counts_graduates_hired_or_founding_within_90_days(
    training, rpc, rpc_as, cohort, course, trained_veteran, config, db
):
    container = get_container(training, TrainingService)
    graduates = [trained_veteran()["veteran_id"] for _ in range(3)]
    for vid in graduates:
        enrollment = rpc.training.enroll(cohort["id"], vid)
        rpc.training.record_result(enrollment["id"], {"theory_score": 90, "practical_score": 90})
    hired, founder, late = graduates
    soon, too_late = bureau_today() + timedelta(days=20), bureau_today() + timedelta(days=120)
    for event in (
        envelope(
            "jobs",
            "veteran_hired",
            application_id=str(uuid.uuid4()),
            veteran_id=hired,
            posting_id=str(uuid.uuid4()),
            employer_id=str(uuid.uuid4()),
            county_code="652301",
            started_on=soon.isoformat(),
            salary=5000,
            channel="referral",
        ),
        envelope(
            "registry",
            "enterprise_registered",
            enterprise_id=str(uuid.uuid4()),
            kind="individual_business",
            county_code="652301",
            industry="logistics",
            stage="startup",
            founder_ids=[founder],
            founded_on=soon.isoformat(),
        ),
        envelope(
            "jobs",
            "veteran_hired",
            application_id=str(uuid.uuid4()),
            veteran_id=late,
            posting_id=str(uuid.uuid4()),
            employer_id=str(uuid.uuid4()),
            county_code="652301",
            started_on=too_late.isoformat(),
            salary=5000,
            channel="self",
        ),
    ):
        with entrypoint_waiter(container, "on_events", timeout=15):
            publish(config, event, source=event["source"])
    rate = rpc.training.placement_rate(course["id"])
    assert (rate["graduates"], rate["placed_within_90_days"], rate["rate"]) == (3, 2, 0.6667)
    assert rate["cohorts"] == [
        {"cohort_id": cohort["id"], "graduates": 3, "placed_within_90_days": 2, "rate": 0.6667}
    ]
    # A redelivered hire is one placement.
    assert scalar(db, "SELECT count(*) FROM training.placements") == 3
    # Another county's course figures are not shown: answered as a missing course.
    unknown = str(uuid.uuid4())
    with rpc_as(token("county", ["652302"])) as clerk:
        with pytest.raises(NotFound) as outside:
            clerk.training.placement_rate(course["id"])
        with pytest.raises(NotFound) as missing:
            clerk.training.placement_rate(unknown)
    assert str(outside.value) == f"no course {course['id']}"
    assert str(missing.value) == f"no course {unknown}"
    with rpc_as(token("prefecture", ["*"])) as staff:
        assert staff.training.placement_rate(course["id"])["graduates"] == 3


def test_mentors_competitions_and_awards(training, rpc, rpc_as, trained_veteran, db):
    vid = trained_veteran()["veteran_id"]
    mentor = rpc.training.register_mentor(
        {"name": "刘创业", "field": "电子商务", "county_code": "652301"}
    )
    assert rpc.training.assign_mentor(vid, mentor["id"])["already"] is False
    assert rpc.training.assign_mentor(vid, mentor["id"])["already"] is True
    competition = rpc.training.create_competition(
        {
            "year": 2026,
            "title": "退役军人创业创新大赛",
            "groups": ["emerging_industries", "modern_agriculture", "services"],
        }
    )
    entry = rpc.training.submit_entry(
        competition["id"],
        {"veteran_id": vid, "project": "戈壁滩设施农业", "group": "modern_agriculture"},
    )
    assert entry["group"] == "modern_agriculture"
    with pytest.raises(Conflict):
        rpc.training.submit_entry(
            competition["id"], {"veteran_id": vid, "project": "再来一个", "group": "services"}
        )
    with pytest.raises(InvalidInput) as caught:
        rpc.training.submit_entry(
            competition["id"],
            {"veteran_id": trained_veteran()["veteran_id"], "project": "x", "group": "poetry"},
        )
    assert "group" in caught.value.errors
    awarded = rpc.training.award(entry["id"], {"prize": "一等奖", "rank": 1})
    assert awarded["prize"] == "一等奖" and awarded["rank"] == 1
    with pytest.raises(Conflict):
        rpc.training.award(entry["id"], {"prize": "二等奖", "rank": 2})
    with rpc_as(token("county", ["652302"])) as clerk:
        with pytest.raises(NotFound) as outside:  # another county's veteran: unknown
            clerk.training.assign_mentor(vid, mentor["id"])
        assert str(outside.value).startswith(f"training has no veteran {vid} ")
        with pytest.raises(NotFound):  # nor may they award another county's entry
            clerk.training.award(entry["id"], {"prize": "三等奖", "rank": 3})
        with pytest.raises(InvalidInput):  # a prefecture-wide competition is not theirs
            clerk.training.create_competition({"year": 2026, "title": "t", "groups": ["g"]})


def test_stats_count_training_by_county(training, rpc, rpc_as, base, cohort, trained_veteran):
    rpc.training.register_base(
        {"name": "孵化园", "kind": "incubation", "county_code": "652302", "capacity": 30}
    )
    enrollments = [
        rpc.training.enroll(cohort["id"], trained_veteran()["veteran_id"]) for _ in range(3)
    ]
    rpc.training.record_result(enrollments[0]["id"], {"theory_score": 90, "practical_score": 90})
    rpc.training.record_result(enrollments[1]["id"], {"theory_score": 10, "practical_score": 90})
    rpc.training.register_mentor({"name": "张导师", "field": "物流", "county_code": "652301"})

    got = rpc.training.stats("652301")
    assert {
        k: got[k]
        for k in (
            "training_bases",
            "incubation_bases",
            "courses",
            "cohorts",
            "enrolled",
            "completed",
            "passed",
            "certificates",
            "mentors",
        )
    } == {
        "training_bases": 1,
        "incubation_bases": 0,
        "courses": 1,
        "cohorts": 1,
        "enrolled": 3,
        "completed": 2,
        "passed": 1,
        "certificates": 1,
        "mentors": 1,
    }
    assert got["placement_rate"] == 0.0 and got["placed_within_90_days"] == 0
    assert rpc.training.stats()["incubation_bases"] == 1
    with rpc_as(token("viewer", ["652302"])) as viewer:
        assert viewer.training.stats()["enrolled"] == 0


def test_stats_count_graduates_placed_by_the_month_of_their_placement(
    training, rpc, rpc_as, cohort, trained_veteran, config, db
):
    container = get_container(training, TrainingService)
    counties = ("652301", "652301", "652301", "652302", "652301")
    graduates = [trained_veteran(county_code=c)["veteran_id"] for c in counties]
    for vid in graduates:
        enrollment = rpc.training.enroll(cohort["id"], vid)
        rpc.training.record_result(enrollment["id"], {"theory_score": 90, "practical_score": 90})
    # Known course ends: every graduate finished on 30 June 2026.
    with db.cursor() as cur:
        cur.execute("UPDATE training.enrollments SET completed_on = '2026-06-30'")
    started = {
        graduates[0]: "2026-07-01",  # July
        graduates[1]: "2026-06-29",  # the day before the course ended: June
        graduates[2]: "2026-09-29",  # day 91: not a placement after training
        graduates[3]: "2026-08-15",  # August, in 652302
    }  # graduates[4]: never placed
    for vid, day in started.items():
        event = envelope(
            "jobs",
            "veteran_hired",
            application_id=str(uuid.uuid4()),
            veteran_id=vid,
            posting_id=str(uuid.uuid4()),
            employer_id=str(uuid.uuid4()),
            county_code="652301",
            started_on=day,
            salary=5000,
            channel="referral",
        )
        with entrypoint_waiter(container, "on_events", timeout=15):
            publish(config, event, source="jobs")
    for dependency in container.dependencies:
        if isinstance(dependency, Clock):
            dependency.clock = FrozenClock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))

    stats = rpc.training.stats()
    placed = {month: row["placed_after_training"] for month, row in stats["by_month"].items()}
    assert list(placed) == ["2025-12", *[f"2026-{m:02d}" for m in range(1, 12)]]
    assert {m: n for m, n in placed.items() if n} == {"2026-06": 1, "2026-07": 1, "2026-08": 1}
    assert stats["placed_within_90_days"] == sum(placed.values()) == 3
    with rpc_as(token("viewer", ["652302"])) as viewer:
        mine = viewer.training.stats()["by_month"]
    assert {m: row for m, row in mine.items() if row["placed_after_training"]} == {
        "2026-08": {"placed_after_training": 1}
    }
