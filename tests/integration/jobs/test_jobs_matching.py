"""jobs: its projection of veterans from registry's and training's events, matching both
ways with scores and reasons, and stored recommendations."""

import uuid

import pytest
from nameko.testing.services import entrypoint_hook
from nameko.testing.utils import get_container

from services.jobs.service import JobsService
from shared.errors import InvalidInput, NotFound
from tests.conftest import token
from tests.helpers import (
    bureau_today,
    envelope,
    publish,
    registered_event,
    scalar,
    wait_for,
)


def test_a_registered_veteran_is_projected_without_personal_identifiers(jobs, known_veteran, db):
    veteran = known_veteran(skills=["driver_b2", "security_guard"])
    row = scalar(db, "SELECT row_to_json(v) FROM jobs.veterans v")
    assert row["skills"] == ["driver_b2", "security_guard"]
    assert row["occupations"] == ["driver"] and row["counties"] == ["652301"]
    assert row["min_salary"] == 4000 and row["employment_status"] == "unemployed"
    assert set(row) == {
        "veteran_id",
        "county_code",
        "skills",
        "certificates",
        "occupations",
        "counties",
        "min_salary",
        "willingness",
        "employment_status",
        "updated_at",
    }
    assert row["veteran_id"] == veteran["veteran_id"]


def test_match_jobs_ranks_by_score_with_reasons(jobs, post, known_veteran, rpc):
    veteran = known_veteran(skills=["driver_b2"], certificates=["驾驶证B2"])
    best = post(dedicated=True, certificates_preferred=["驾驶证B2"])  # 40+10+20+15+10+5
    other_county = post(county_code="652302")  # 40+20+10
    half_skills = post(skills_required=["driver_b2", "logistics"])  # 20+20+15+10
    low_pay = post(
        salary_min=2000, salary_max=3000, occupation="warehouse", skills_required=["logistics"]
    )  # 0+15
    post(county_code="652325", occupation="cook", skills_required=["cook"])  # no common ground

    ranked = rpc.jobs.match_jobs(veteran["veteran_id"], 10)
    assert [(r["posting"]["id"], r["score"]) for r in ranked] == [
        (best["id"], 100),
        (other_county["id"], 70),
        (half_skills["id"], 65),
        (low_pay["id"], 15),
    ]
    why = ranked[2]["reasons"]
    assert why["matched_skills"] == ["driver_b2"] and why["missing_skills"] == ["logistics"]
    assert why["county"] == {"posting": "652301", "wanted": True}
    assert ranked[0]["reasons"]["certificates"] == ["驾驶证B2"]
    assert ranked[3]["reasons"]["salary"] == {"max": 3000, "floor": 4000, "meets_floor": False}
    assert len(rpc.jobs.match_jobs(veteran["veteran_id"], 2)) == 2


def test_closed_full_or_applied_postings_are_not_offered(jobs, post, known_veteran, rpc):
    veteran = known_veteran()
    closed, applied, left = post(), post(), post()
    rpc.jobs.close_job(closed["id"], "cancelled")
    rpc.jobs.apply(
        {"veteran_id": veteran["veteran_id"], "posting_id": applied["id"], "channel": "self"}
    )
    assert [r["posting"]["id"] for r in rpc.jobs.match_jobs(veteran["veteran_id"])] == [left["id"]]


def test_match_candidates_ranks_job_seekers_of_the_callers_counties(
    jobs, post, known_veteran, rpc, rpc_as
):
    posting = post()
    driver = known_veteran(skills=["driver_b2"])
    guard = known_veteran(
        skills=["security_guard"],
        intentions={"occupations": ["security_guard"], "counties": [], "min_salary": None},
    )
    known_veteran(skills=["driver_b2"], employment_status="employed")  # working already
    known_veteran(skills=["driver_b2"], willingness="business")  # wants a business
    elsewhere = known_veteran(
        skills=["driver_b2"],
        county_code="652302",
        intentions={"occupations": ["driver"], "counties": ["652302"], "min_salary": 8000},
    )

    ranked = rpc.jobs.match_candidates(posting["id"], 10)
    assert [(r["veteran_id"], r["score"]) for r in ranked] == [
        (driver["veteran_id"], 85),
        (elsewhere["veteran_id"], 60),
        (guard["veteran_id"], 25),
    ]
    assert ranked[1]["reasons"]["salary"]["meets_floor"] is False
    assert "name" not in ranked[0] and "id_number" not in ranked[0]
    with rpc_as(token("county", ["652301"])) as clerk:
        mine = clerk.jobs.match_candidates(posting["id"])
    assert [r["veteran_id"] for r in mine] == [driver["veteran_id"], guard["veteran_id"]]


def test_news_of_a_veteran_refreshes_their_recommendations(
    jobs, post, known_veteran, rpc, config, db
):
    driving, welding = (
        post(),
        post(occupation="electrician", skills_required=["welder"], county_code="652302"),
    )
    veteran = known_veteran()
    vid = veteran["veteran_id"]
    wait_for(lambda: rpc.jobs.recommendations_for(vid), message="recommendations")
    assert [r["posting"]["id"] for r in rpc.jobs.recommendations_for(vid)] == [driving["id"]]

    # Training certifies a welder: the skill joins the projection and the list.
    publish(
        config,
        envelope(
            "training",
            "certificate_issued",
            veteran_id=vid,
            certificate_name="焊工证",
            cert_no="W-1",
            skills_granted=["welder"],
            issued_on="2026-11-01",
        ),
        source="training",
    )
    wait_for(lambda: len(rpc.jobs.recommendations_for(vid)) == 2, message="two recommendations")
    assert scalar(db, "SELECT certificates FROM jobs.veterans WHERE veteran_id = %s", vid) == [
        "焊工证"
    ]

    # Hired elsewhere: the status follows, and a working veteran gets no list.
    publish(
        config,
        envelope(
            "registry",
            "employment_status_changed",
            veteran_id=vid,
            previous="unemployed",
            current="employed",
            reason="veteran_hired",
            cause_event_id=None,
        ),
    )
    wait_for(
        lambda: (
            scalar(db, "SELECT employment_status FROM jobs.veterans WHERE veteran_id = %s", vid)
            == "employed"
        ),
        message="status",
    )
    # Back to unemployed: recommendations are worked out again.
    publish(
        config,
        envelope(
            "registry",
            "employment_status_changed",
            veteran_id=vid,
            previous="employed",
            current="unemployed",
            reason="left_job",
            cause_event_id=None,
        ),
    )
    wait_for(
        lambda: scalar(
            db,
            "SELECT max(refreshed_at) > (SELECT updated_at FROM jobs.veterans"
            " WHERE veteran_id = %s) - interval '1 second'"
            " FROM jobs.recommendations WHERE veteran_id = %s",
            vid,
            vid,
        ),
        message="refresh",
    )
    assert len(rpc.jobs.recommendations_for(vid)) == 2
    assert welding["id"] in [r["posting"]["id"] for r in rpc.jobs.recommendations_for(vid)]


def test_an_update_replaces_the_projection(jobs, post, known_veteran, config, db):
    veteran = known_veteran()
    vid = veteran["veteran_id"]
    snapshot = {**veteran, "skills": ["cook"], "willingness": "none"}
    publish(
        config,
        envelope(
            "registry",
            "veteran_updated",
            veteran_id=vid,
            changed={"skills": ["cook"], "willingness": "none"},
            snapshot=snapshot,
        ),
    )
    wait_for(
        lambda: (
            scalar(db, "SELECT willingness FROM jobs.veterans WHERE veteran_id = %s", vid) == "none"
        ),
        message="update",
    )
    assert scalar(db, "SELECT skills FROM jobs.veterans WHERE veteran_id = %s", vid) == ["cook"]
    assert scalar(db, "SELECT count(*) FROM jobs.recommendations WHERE veteran_id = %s", vid) == 0


def test_one_batch_of_news_about_known_and_new_veterans_is_handled_as_one(jobs, known_veteran, db):
    # A known veteran's row comes back from the projection with a UUID id, a new one's from
    # the event with a string: the batch sorts both together (it raised TypeError, and the
    # batch fell back to one message at a time).
    known = known_veteran()["veteran_id"]
    certified = envelope(
        "training",
        "certificate_issued",
        veteran_id=known,
        certificate_name="焊工证",
        cert_no="W-2",
        skills_granted=["welder"],
        issued_on="2026-11-01",
    )
    fresh = [registered_event(veteran_id=str(uuid.uuid4()), willingness="job") for _ in range(3)]
    container = get_container(jobs, JobsService)

    with entrypoint_hook(container, "on_veteran_events") as handle:
        handle([certified, *fresh])

    assert scalar(db, "SELECT skills FROM jobs.veterans WHERE veteran_id = %s", known) == [
        "driver_b2",
        "welder",
    ]
    assert (
        scalar(
            db,
            "SELECT count(*) FROM jobs.veterans WHERE veteran_id = ANY(%s::uuid[])",
            [e["data"]["veteran_id"] for e in fresh],
        )
        == 3
    )


def test_matching_a_veteran_jobs_does_not_know_or_may_not_see(jobs, known_veteran, rpc, rpc_as):
    with pytest.raises(NotFound):
        rpc.jobs.match_jobs(str(uuid.uuid4()))
    with pytest.raises(InvalidInput) as caught:
        rpc.jobs.match_jobs(str(uuid.uuid4()), 0)
    assert "limit" in caught.value.errors
    veteran = known_veteran(county_code="652302")
    with rpc_as(token("county", ["652301"])) as clerk:
        with pytest.raises(NotFound) as outside:  # answered as an unknown veteran
            clerk.jobs.match_jobs(veteran["veteran_id"])
    assert "652302" not in str(outside.value)


def test_ranking_tier_by_tier_gives_what_scoring_every_candidate_gives(
    jobs, post, known_veteran, rpc, db
):
    # Varied postings: every mix of shared skill, wanted occupation and county, so that
    # the tiers' cut-offs are crossed in both directions.
    import random
    from datetime import date

    from services.jobs.matching import wanted_counties
    from services.jobs.matching_store import _SCORE_FOR_VETERAN
    from services.jobs.records_store import VETERAN_COLUMNS, veteran_from

    rng = random.Random(3)
    for _ in range(60):
        post(
            occupation=rng.choice(["driver", "cook", "security_guard"]),
            skills_required=rng.sample(
                ["driver_b2", "cook", "logistics", "welder"], rng.choice([0, 1, 2])
            ),
            county_code=rng.choice(["652301", "652302", "652323"]),
            salary_min=3000,
            salary_max=rng.choice([3500, 6000]),
            dedicated=rng.random() < 0.3,
            openings=rng.randint(1, 3),
            closes_on=date.fromordinal(bureau_today().toordinal() + rng.randint(1, 60)).isoformat(),
        )
    for facts in (
        {"skills": ["driver_b2"]},
        {
            "skills": ["cook", "logistics"],
            "intentions": {"occupations": ["cook"], "counties": ["652302"], "min_salary": 5000},
        },
        {"skills": [], "intentions": {"occupations": [], "counties": [], "min_salary": None}},
    ):
        veteran = known_veteran(**facts)
        row = scalar(
            db,
            "SELECT row_to_json(v) FROM jobs.veterans v WHERE veteran_id = %s",
            veteran["veteran_id"],
        )
        args = {
            "skills": row["skills"],
            "certificates": row["certificates"],
            "occupations": row["occupations"],
            "counties": wanted_counties(veteran_from({c: row[c] for c in VETERAN_COLUMNS})),
            "min_salary": row["min_salary"],
        }
        with db.cursor() as cur:
            cur.execute(
                f"SELECT p.id::text, {_SCORE_FOR_VETERAN} AS score FROM jobs.postings p"
                " WHERE p.skills_required && %(skills)s::text[]"
                " OR p.occupation = ANY(%(occupations)s::text[])"
                " OR p.county_code = ANY(%(counties)s::text[])"
                " ORDER BY score DESC, p.closes_on, p.id",
                args,
            )
            everything = cur.fetchall()
        for limit in (1, 3, 10, 40):
            ranked = rpc.jobs.match_jobs(veteran["veteran_id"], limit)
            assert [(r["posting"]["id"], r["score"]) for r in ranked] == everything[:limit]
