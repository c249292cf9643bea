"""Across services, as in production: a certificate from training reaches the veteran's
card in registry and changes their job matches in jobs; a hire in jobs reaches the card and
training's placement figures."""

from datetime import timedelta

from services.jobs.service import JobsService
from services.registry.service import RegistryService
from services.training.service import TrainingService
from tests.factories import make_veteran
from tests.helpers import bureau_today, scalar, wait_for


def test_a_certificate_reaches_the_card_and_the_job_matches(start, rpc, db):
    start(RegistryService, JobsService, TrainingService)
    veteran = rpc.registry.register_veteran(
        make_veteran(
            skills=[],
            intentions={
                "occupations": ["fire_facility_operator"],
                "counties": [],
                "min_salary": None,
            },
            willingness="job",
            employment_status="unemployed",
        )
    )
    vid = veteran["id"]
    employer = rpc.jobs.register_employer(
        {
            "name": "昌吉市消防设施维保有限公司",
            "uscc": "91652301MA78K2Q5X3",
            "county_code": veteran["county_code"],
            "industry": "security_services",
        }
    )
    posting = rpc.jobs.post_job(
        {
            "employer_id": employer["id"],
            "title": "消防设施操作员",
            "occupation": "fire_facility_operator",
            "skills_required": ["fire_facility_operator"],
            "county_code": veteran["county_code"],
            "salary_min": 4000,
            "salary_max": 6000,
            "openings": 3,
            "closes_on": (bureau_today() + timedelta(days=60)).isoformat(),
        }
    )
    wait_for(
        lambda: (
            scalar(db, "SELECT count(*) FROM jobs.veterans WHERE veteran_id = %s", vid)
            and scalar(db, "SELECT count(*) FROM training.veterans WHERE veteran_id = %s", vid)
        ),
        message="jobs and training know the veteran",
    )
    [before] = rpc.jobs.match_jobs(vid)
    assert before["reasons"]["missing_skills"] == ["fire_facility_operator"]

    base = rpc.training.register_base(
        {
            "name": "消防培训学校",
            "kind": "training",
            "county_code": veteran["county_code"],
            "capacity": 50,
        }
    )
    course = rpc.training.open_course(
        {
            "title": "消防设施操作员（初级）",
            "occupation": "fire_facility_operator",
            "certificate_name": "消防设施操作员证",
            "skills_granted": ["fire_facility_operator"],
            "theory_hours": 40,
            "practical_hours": 60,
            "mode": "hybrid",
            "base_id": base["id"],
        }
    )
    cohort = rpc.training.open_cohort(
        course["id"],
        {
            "starts_on": (bureau_today() + timedelta(days=1)).isoformat(),
            "ends_on": (bureau_today() + timedelta(days=30)).isoformat(),
            "capacity": 30,
        },
    )
    enrollment = rpc.training.enroll(cohort["id"], vid)
    result = rpc.training.record_result(
        enrollment["id"], {"theory_score": 85, "practical_score": 92}
    )
    cert_no = result["certificate"]["cert_no"]

    card = wait_for(
        lambda: (lambda c: c if "消防设施操作员证" in c["veteran"]["certificates"] else None)(
            rpc.registry.get_card(vid)
        ),
        message="the card",
    )
    assert "fire_facility_operator" in card["veteran"]["skills"]
    assert any(cert_no in line["summary"] for line in card["timeline"])
    after = wait_for(
        lambda: (lambda m: m if m and not m[0]["reasons"]["missing_skills"] else None)(
            rpc.jobs.match_jobs(vid)
        ),
        message="the new match",
    )
    assert after[0]["posting"]["id"] == posting["id"]
    assert after[0]["score"] > before["score"]

    # Hired: the card says employed, and training counts a placed graduate.
    application = rpc.jobs.apply(
        {"veteran_id": vid, "posting_id": posting["id"], "channel": "referral"}
    )
    rpc.jobs.advance_application(application["id"], "offered")
    rpc.jobs.hire(application["id"], {"started_on": bureau_today().isoformat(), "salary": 5200})
    wait_for(
        lambda: rpc.registry.get_veteran(vid)["employment_status"] == "employed",
        message="employed on the card",
    )
    wait_for(
        lambda: rpc.training.placement_rate(course["id"])["placed_within_90_days"] == 1,
        message="a placed graduate",
    )
