"""training: bases, courses and cohorts; enrollment with capacity under concurrency;
results, certificates and their events; what a veteran took."""

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from shared.errors import Conflict, InvalidInput, NotFound
from tests.conftest import token
from tests.helpers import scalar
from tests.integration.training.conftest import in_days


def events(db):
    with db.cursor() as cur:
        cur.execute("SELECT routing_key, body->'data' FROM training.outbox ORDER BY id")
        return cur.fetchall()


def test_a_course_opens_at_a_training_base_in_the_callers_county(
    training, rpc, rpc_as, base, course, cohort
):
    assert course["county_code"] == "652301" and course["theory_pass"] == 60
    assert cohort["capacity"] == 30 and cohort["enrolled"] == 0
    incubator = rpc.training.register_base(
        {"name": "孵化基地", "kind": "incubation", "county_code": "652301", "capacity": 20}
    )
    with pytest.raises(InvalidInput) as caught:
        rpc.training.open_course(
            {
                **{
                    k: course[k]
                    for k in (
                        "title",
                        "occupation",
                        "certificate_name",
                        "skills_granted",
                        "theory_hours",
                        "practical_hours",
                        "mode",
                    )
                },
                "base_id": incubator["id"],
            }
        )
    assert "base_id" in caught.value.errors
    with rpc_as(token("county", ["652302"])) as clerk:
        with pytest.raises(NotFound) as outside:  # another county's course: as a missing one
            clerk.training.open_cohort(
                course["id"], {"starts_on": in_days(1), "ends_on": in_days(2), "capacity": 5}
            )
    assert str(outside.value) == f"no course {course['id']}"


@pytest.mark.parametrize(
    "data,field",
    [
        ({"kind": "spa"}, "kind"),
        ({"capacity": 0}, "capacity"),
        ({"county_code": "110101"}, "county_code"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_base_is_invalid_input(training, rpc, db, data, field):
    good = {"name": "学校", "kind": "training", "county_code": "652301", "capacity": 10}
    with pytest.raises(InvalidInput) as caught:
        rpc.training.register_base({**good, **data})
    assert field in caught.value.errors
    assert scalar(db, "SELECT count(*) FROM training.bases") == 0


@pytest.mark.parametrize(
    "data,field",
    [
        ({"skills_granted": ["basket_weaving"]}, "skills_granted.0"),
        ({"skills_granted": []}, "skills_granted"),
        ({"occupation": "wizard"}, "occupation"),
        ({"mode": "telepathy"}, "mode"),
        ({"theory_hours": 0, "practical_hours": 0}, "theory_hours"),
        ({"theory_pass": 101}, "theory_pass"),
    ],
)
def test_a_bad_course_is_invalid_input(rpc, base, db, data, field):
    good = {
        "title": "课程",
        "occupation": "drone_pilot",
        "certificate_name": "证",
        "skills_granted": ["drone_pilot"],
        "theory_hours": 10,
        "practical_hours": 10,
        "mode": "offline",
        "base_id": base["id"],
    }
    with pytest.raises(InvalidInput) as caught:
        rpc.training.open_course({**good, **data})
    assert field in caught.value.errors
    assert scalar(db, "SELECT count(*) FROM training.courses") == 0


def test_a_cohort_needs_sensible_dates(rpc, course):
    with pytest.raises(InvalidInput) as caught:
        rpc.training.open_cohort(
            course["id"], {"starts_on": in_days(5), "ends_on": in_days(4), "capacity": 5}
        )
    assert "ends_on" in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        rpc.training.open_cohort(
            course["id"], {"starts_on": in_days(-1), "ends_on": in_days(4), "capacity": 5}
        )
    assert "starts_on" in caught.value.errors
    with pytest.raises(NotFound):
        rpc.training.open_cohort(
            "00000000-0000-0000-0000-000000000000",
            {"starts_on": in_days(1), "ends_on": in_days(4), "capacity": 5},
        )


def test_enrolling_twice_or_unknown_veterans_is_refused(rpc, cohort, course, trained_veteran, db):
    vid = trained_veteran()["veteran_id"]
    enrollment = rpc.training.enroll(cohort["id"], vid)
    assert enrollment["status"] == "enrolled"
    with pytest.raises(Conflict):
        rpc.training.enroll(cohort["id"], vid)
    other = rpc.training.open_cohort(
        course["id"], {"starts_on": in_days(40), "ends_on": in_days(70), "capacity": 5}
    )
    with pytest.raises(Conflict) as caught:  # one live enrollment per course
        rpc.training.enroll(other["id"], vid)
    assert "another cohort" in caught.value.message
    with pytest.raises(NotFound):
        rpc.training.enroll(cohort["id"], "00000000-0000-0000-0000-000000000000")
    assert scalar(db, "SELECT enrolled FROM training.cohorts WHERE id = %s", cohort["id"]) == 1
    assert [e[0] for e in events(db)] == ["enrolled"]
    assert events(db)[0][1] == {
        "enrollment_id": enrollment["id"],
        "veteran_id": vid,
        "cohort_id": cohort["id"],
        "course_id": course["id"],
    }
    # Withdrawing frees the seat, and the veteran may enroll in the other cohort.
    rpc.training.withdraw_enrollment(enrollment["id"])
    assert scalar(db, "SELECT enrolled FROM training.cohorts WHERE id = %s", cohort["id"]) == 0
    assert rpc.training.enroll(other["id"], vid)["status"] == "enrolled"
    with pytest.raises(Conflict):
        rpc.training.withdraw_enrollment(enrollment["id"])


def test_the_last_seat_goes_to_one_of_two_concurrent_enrollments(
    rpc, course, trained_veteran, config, admin_token, db
):
    cohort = rpc.training.open_cohort(
        course["id"], {"starts_on": in_days(3), "ends_on": in_days(10), "capacity": 1}
    )
    veterans = [trained_veteran()["veteran_id"] for _ in range(2)]
    outcomes = []

    def enroll(vid):
        with ClusterRpcProxy(config, context_data={"auth_token": admin_token}) as proxy:
            try:
                proxy.training.enroll(cohort["id"], vid)
                outcomes.append("enrolled")
            except Conflict:
                outcomes.append("full")

    for thread in [eventlet.spawn(enroll, vid) for vid in veterans]:
        thread.wait()
    assert sorted(outcomes) == ["enrolled", "full"]
    assert scalar(db, "SELECT enrolled FROM training.cohorts WHERE id = %s", cohort["id"]) == 1
    assert scalar(db, "SELECT count(*) FROM training.enrollments") == 1
    assert scalar(db, "SELECT count(*) FROM training.outbox") == 1


def test_a_pass_issues_a_numbered_certificate_and_a_fail_does_not(
    rpc, cohort, course, trained_veteran, db
):
    good, poor = (
        rpc.training.enroll(cohort["id"], trained_veteran()["veteran_id"]) for _ in range(2)
    )
    passed = rpc.training.record_result(good["id"], {"theory_score": 82, "practical_score": 90})
    assert passed["passed"] is True and passed["status"] == "completed"
    certificate = passed["certificate"]
    assert certificate["cert_no"].startswith("TR") and "652301" in certificate["cert_no"]
    failed = rpc.training.record_result(poor["id"], {"theory_score": 59, "practical_score": 95})
    assert failed["passed"] is False and failed["certificate"] is None
    with pytest.raises(Conflict):
        rpc.training.record_result(good["id"], {"theory_score": 100, "practical_score": 100})
    with pytest.raises(InvalidInput) as caught:
        rpc.training.record_result(poor["id"], {"theory_score": 101, "practical_score": 0})
    assert "theory_score" in caught.value.errors

    sent = [(kind, data) for kind, data in events(db) if kind != "enrolled"]
    assert [kind for kind, _ in sent] == [
        "training_completed",
        "certificate_issued",
        "training_completed",
    ]
    assert sent[1][1] == {
        "veteran_id": good["veteran_id"],
        "certificate_name": "消防设施操作员证",
        "cert_no": certificate["cert_no"],
        "skills_granted": ["fire_facility_operator"],
        "issued_on": certificate["issued_on"],
        "skill_level": None,  # the course states none
    }
    assert sent[2][1]["passed"] is False

    [taken] = rpc.training.trainings_for(good["veteran_id"])
    assert taken["cert_no"] == certificate["cert_no"] and taken["title"] == course["title"]


def test_a_course_with_a_skill_level_issues_certificates_of_that_level(
    rpc, base, trained_veteran, db
):
    data = {
        "title": "焊工（中级）",
        "occupation": "electrician",
        "certificate_name": "焊工职业技能等级证书",
        "skills_granted": ["welder"],
        "theory_hours": 40,
        "practical_hours": 60,
        "mode": "offline",
        "base_id": base["id"],
    }
    with pytest.raises(InvalidInput) as caught:
        rpc.training.open_course({**data, "skill_level": "intermediate"})
    assert "skill_level" in caught.value.errors
    course = rpc.training.open_course(
        {**data, "skill_level": "level_4", "occupation": "4-07-05-04"}  # a 大典 code
    )
    assert (course["skill_level"], course["occupation"]) == ("level_4", "fire_facility_operator")
    cohort = rpc.training.open_cohort(
        course["id"], {"starts_on": in_days(3), "ends_on": in_days(33), "capacity": 30}
    )
    enrollment = rpc.training.enroll(cohort["id"], trained_veteran()["veteran_id"])
    rpc.training.record_result(enrollment["id"], {"theory_score": 90, "practical_score": 90})
    assert scalar(db, "SELECT skill_level FROM training.certificates") == "level_4"
    [issued] = [data for kind, data in events(db) if kind == "certificate_issued"]
    assert issued["skill_level"] == "level_4"
