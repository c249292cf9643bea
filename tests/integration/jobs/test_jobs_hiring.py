"""jobs: applications through the pipeline, hires (never past the openings, also at once),
fairs and statistics."""

import datetime as dt

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import token
from tests.helpers import bureau_now, scalar
from tests.integration.jobs.conftest import in_days


@pytest.fixture
def offered(rpc, post, known_veteran):
    """``offered(posting)``: a new veteran's application to ``posting``, at offered."""

    def make(posting, channel="referral", **veteran):
        vid = known_veteran(**veteran)["veteran_id"]
        application = rpc.jobs.apply(
            {"veteran_id": vid, "posting_id": posting["id"], "channel": channel}
        )
        rpc.jobs.advance_application(application["id"], "offered")
        return application

    return make


def test_an_application_goes_through_the_pipeline_to_a_hire(jobs, post, known_veteran, rpc, db):
    posting = post(dedicated=True)
    vid = known_veteran()["veteran_id"]
    application = rpc.jobs.apply(
        {"veteran_id": vid, "posting_id": posting["id"], "channel": "referral"}
    )
    assert application["status"] == "submitted"
    assert (
        rpc.jobs.advance_application(application["id"], "interviewing")["status"] == "interviewing"
    )
    rpc.jobs.advance_application(application["id"], "offered", note="面试通过")
    hired = rpc.jobs.hire(application["id"], {"started_on": in_days(3), "salary": 5500})
    assert hired["status"] == "hired" and hired["posting_remaining"] == 1

    [mine] = rpc.jobs.applications_for(vid)
    assert mine["status"] == "hired" and mine["salary"] == 5500
    assert mine["employer_name"] == "昌吉市顺达物流有限公司"
    assert [(h["from_status"], h["to_status"]) for h in mine["history"]] == [
        (None, "submitted"),
        ("submitted", "interviewing"),
        ("interviewing", "offered"),
        ("offered", "hired"),
    ]
    assert mine["history"][2]["note"] == "面试通过"

    events = {row[0]: row[1] for row in _outbox(db)}
    assert events["application_submitted"]["data"] == {
        "application_id": application["id"],
        "veteran_id": vid,
        "posting_id": posting["id"],
        "channel": "referral",
    }
    assert events["veteran_hired"]["data"] == {
        "application_id": application["id"],
        "veteran_id": vid,
        "posting_id": posting["id"],
        "employer_id": posting["employer_id"],
        "employer_name": "昌吉市顺达物流有限公司",
        "county_code": "652301",
        "started_on": in_days(3),
        "salary": 5500,
        "channel": "referral",
        "contract_months": None,  # not stated
        "social_insurance": False,
        "insured_from": None,
    }


def test_a_hire_stores_and_publishes_its_contract_and_insurance(jobs, post, offered, rpc, db):
    application = offered(post())
    hired = rpc.jobs.hire(
        application["id"],
        {
            "started_on": in_days(1),
            "salary": 5200,
            "contract_months": 24,
            "social_insurance": True,
            "insured_from": in_days(5),
        },
    )
    assert (hired["contract_months"], hired["social_insurance"], hired["insured_from"]) == (
        24,
        True,
        in_days(5),
    )
    with db.cursor() as cur:
        cur.execute(
            "SELECT contract_months, social_insurance, insured_from::text FROM jobs.hires"
            " WHERE application_id = %s",
            (application["id"],),
        )
        assert cur.fetchone() == (24, True, in_days(5))
    [event] = [body for key, body in _outbox(db) if key == "veteran_hired"]
    assert {
        k: event["data"][k] for k in ("contract_months", "social_insurance", "insured_from")
    } == {
        "contract_months": 24,
        "social_insurance": True,
        "insured_from": in_days(5),
    }


def _outbox(db):
    with db.cursor() as cur:
        cur.execute("SELECT routing_key, body FROM jobs.outbox ORDER BY id")
        return cur.fetchall()


@pytest.mark.parametrize(
    "moves,illegal",
    [
        ([], "hired"),  # hire needs an offer first
        (["rejected"], "interviewing"),  # final
        (["offered", "withdrawn"], "offered"),
        (["interviewing"], "submitted"),  # not a target at all → InvalidInput
    ],
)
def test_an_illegal_move_is_a_conflict_and_changes_nothing(
    jobs, post, known_veteran, rpc, db, moves, illegal
):
    vid = known_veteran()["veteran_id"]
    application = rpc.jobs.apply({"veteran_id": vid, "posting_id": post()["id"], "channel": "self"})
    for move in moves:
        rpc.jobs.advance_application(application["id"], move)
    before = scalar(db, "SELECT count(*) FROM jobs.application_history")
    expected = InvalidInput if illegal == "submitted" else Conflict
    with pytest.raises(expected):
        if illegal == "hired":
            rpc.jobs.hire(application["id"], {"started_on": in_days(1), "salary": 5000})
        else:
            rpc.jobs.advance_application(application["id"], illegal)
    assert scalar(db, "SELECT count(*) FROM jobs.application_history") == before
    assert scalar(db, "SELECT count(*) FROM jobs.hires") == 0


def test_the_last_opening_goes_to_one_of_two_concurrent_hires(
    jobs, post, offered, config, admin_token, db
):
    posting = post(openings=1)
    first, second = offered(posting), offered(posting)
    outcomes = []

    def hire(application):
        with ClusterRpcProxy(config, context_data={"auth_token": admin_token}) as proxy:
            try:
                proxy.jobs.hire(application["id"], {"started_on": in_days(1), "salary": 5000})
                outcomes.append("hired")
            except Conflict:
                outcomes.append("conflict")

    for thread in [eventlet.spawn(hire, first), eventlet.spawn(hire, second)]:
        thread.wait()
    assert sorted(outcomes) == ["conflict", "hired"]
    assert scalar(db, "SELECT hired FROM jobs.postings") == 1
    assert scalar(db, "SELECT count(*) FROM jobs.hires") == 1
    assert scalar(db, "SELECT count(*) FROM jobs.outbox WHERE routing_key = 'veteran_hired'") == 1
    # The last opening taken closes the posting, announced once.
    assert scalar(db, "SELECT closed_reason FROM jobs.postings") == "filled"
    assert scalar(db, "SELECT count(*) FROM jobs.outbox WHERE routing_key = 'job_closed'") == 1


def test_no_application_to_a_closed_posting_and_none_twice(jobs, post, known_veteran, rpc):
    vid = known_veteran()["veteran_id"]
    posting = post()
    application = rpc.jobs.apply(
        {"veteran_id": vid, "posting_id": posting["id"], "channel": "self"}
    )
    with pytest.raises(Conflict) as caught:
        rpc.jobs.apply({"veteran_id": vid, "posting_id": posting["id"], "channel": "self"})
    assert caught.value.details["application_id"] == application["id"]
    rpc.jobs.close_job(posting["id"], "withdrawn")
    with pytest.raises(Conflict):
        rpc.jobs.apply(
            {
                "veteran_id": known_veteran()["veteran_id"],
                "posting_id": posting["id"],
                "channel": "self",
            }
        )


@pytest.mark.parametrize(
    "data,field",
    [
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"channel": "fair"}, "fair_id"),
        ({"veteran_id": "x"}, "veteran_id"),
        ({"salary": 5000}, "salary"),
    ],
)
def test_a_bad_application_is_invalid_input(jobs, post, known_veteran, rpc, db, data, field):
    good = {
        "veteran_id": known_veteran()["veteran_id"],
        "posting_id": post()["id"],
        "channel": "self",
    }
    with pytest.raises(InvalidInput) as caught:
        rpc.jobs.apply({**good, **data})
    assert field in caught.value.errors
    assert scalar(db, "SELECT count(*) FROM jobs.applications") == 0


@pytest.mark.parametrize(
    "data,field",
    [
        ({"started_on": in_days(1), "salary": 0}, "salary"),
        ({"started_on": in_days(1), "salary": "5000"}, "salary"),
        ({"started_on": "2001-01-01", "salary": 5000}, "started_on"),
        ({"salary": 5000}, "started_on"),
        ({"started_on": in_days(1), "salary": 5000, "contract_months": 0}, "contract_months"),
        ({"started_on": in_days(1), "salary": 5000, "contract_months": "12"}, "contract_months"),
        ({"started_on": in_days(1), "salary": 5000, "social_insurance": "yes"}, "social_insurance"),
        (
            {
                "started_on": in_days(3),
                "salary": 5000,
                "social_insurance": True,
                "insured_from": in_days(1),
            },
            "insured_from",
        ),
        ({"started_on": in_days(1), "salary": 5000, "insured_from": in_days(2)}, "insured_from"),
    ],
)
def test_a_bad_hire_is_invalid_input_and_takes_no_opening(
    jobs, post, offered, rpc, db, data, field
):
    application = offered(post())
    with pytest.raises(InvalidInput) as caught:
        rpc.jobs.hire(application["id"], data)
    assert field in caught.value.errors
    assert scalar(db, "SELECT hired FROM jobs.postings") == 0


def test_another_countys_veteran_is_unknown_to_a_county_clerk(jobs, post, known_veteran, rpc_as):
    vid = known_veteran(county_code="652302")["veteran_id"]
    posting = post()
    with rpc_as(token("county", ["652301"])) as clerk:
        with pytest.raises(NotFound) as applying:
            clerk.jobs.apply({"veteran_id": vid, "posting_id": posting["id"], "channel": "self"})
        with pytest.raises(NotFound) as listing:
            clerk.jobs.applications_for(vid)
    for caught in (applying, listing):
        assert str(caught.value).startswith(f"jobs has no veteran {vid}")


def test_a_fair_counts_registrations_interviews_intentions_and_hires(
    jobs, employer, post, known_veteran, rpc
):
    posting, outside = post(source="fair"), post()
    fair = rpc.jobs.schedule_fair(
        {
            "title": "退役军人专场招聘会",
            "county_code": "652301",
            "mode": "hybrid",
            "starts_at": (bureau_now() - dt.timedelta(hours=1)).isoformat(),
            "stream_url": "https://live.example.cn/fair/1",
            "venue": "昌吉市人力资源市场",
            "employer_ids": [employer["id"]],
            "posting_ids": [posting["id"]],
        }
    )
    veterans = [known_veteran()["veteran_id"] for _ in range(3)]
    for vid in veterans:
        assert rpc.jobs.register_for_fair(fair["id"], vid)["already"] is False
    assert rpc.jobs.register_for_fair(fair["id"], veterans[0])["already"] is True
    applications = [
        rpc.jobs.apply(
            {
                "veteran_id": vid,
                "posting_id": posting["id"],
                "channel": "fair",
                "fair_id": fair["id"],
            }
        )
        for vid in veterans[:2]
    ]
    with pytest.raises(InvalidInput) as caught:
        rpc.jobs.apply(
            {
                "veteran_id": veterans[2],
                "posting_id": outside["id"],
                "channel": "fair",
                "fair_id": fair["id"],
            }
        )
    assert "posting_id" in caught.value.errors
    rpc.jobs.advance_application(applications[0]["id"], "interviewing")
    rpc.jobs.advance_application(applications[1]["id"], "offered")
    rpc.jobs.hire(applications[1]["id"], {"started_on": in_days(1), "salary": 6000})

    got = rpc.jobs.get_fair(fair["id"])
    assert (
        got["registrations"],
        got["applications"],
        got["interviews"],
        got["intentions_reached"],
        got["hires"],
    ) == (3, 2, 2, 1, 1)
    assert got["mode"] == "hybrid" and got["posting_ids"] == [posting["id"]]


@pytest.mark.parametrize(
    "data,field",
    [
        ({"mode": "online_live", "stream_url": None}, "stream_url"),
        ({"mode": "offline", "venue": None}, "venue"),
        ({"mode": "carnival"}, "mode"),
        ({"starts_at": "2026-12-01T09:00:00"}, "starts_at"),  # no time zone
        ({"posting_ids": ["00000000-0000-0000-0000-000000000000"]}, "posting_ids.0"),
    ],
)
def test_a_bad_fair_is_invalid_input(jobs, rpc, db, data, field):
    good = {
        "title": "招聘会",
        "county_code": "652301",
        "mode": "hybrid",
        "starts_at": "2026-12-01T09:00:00+08:00",
        "stream_url": "https://live.example.cn/1",
        "venue": "会展中心",
    }
    with pytest.raises(InvalidInput) as caught:
        rpc.jobs.schedule_fair({**good, **data})
    assert field in caught.value.errors
    assert scalar(db, "SELECT count(*) FROM jobs.fairs") == 0
    with pytest.raises(NotFound):
        rpc.jobs.get_fair("00000000-0000-0000-0000-000000000000")


def test_stats_count_the_bureaus_job_figures_by_county(jobs, employer, post, offered, rpc, rpc_as):
    dedicated = post(dedicated=True, openings=3)
    post(county_code="652302")
    hired = offered(dedicated)
    rpc.jobs.hire(hired["id"], {"started_on": in_days(1), "salary": 5000})
    offered(dedicated)
    offered(dedicated, channel="self", county_code="652302")

    everywhere = rpc.jobs.stats()
    assert {
        k: everywhere[k]
        for k in (
            "employers",
            "postings_published",
            "postings_open",
            "openings",
            "openings_unfilled",
            "applications",
            "intentions_reached",
            "hires",
            "dedicated_referrals_placed",
        )
    } == {
        "employers": 1,
        "postings_published": 2,
        "postings_open": 2,
        "openings": 5,
        "openings_unfilled": 4,
        "applications": 3,
        "intentions_reached": 3,
        "hires": 1,
        "dedicated_referrals_placed": 1,
    }
    county = rpc.jobs.stats("652302")
    assert (county["postings_published"], county["applications"], county["hires"]) == (1, 1, 0)
    with rpc_as(token("viewer", ["652302"])) as viewer:
        assert viewer.jobs.stats()["counties"] == ["652302"]
        with pytest.raises(Forbidden):
            viewer.jobs.stats("652301")
        with pytest.raises(Forbidden):
            viewer.jobs.search_jobs()


def test_stats_count_fairs_held_by_mode_and_hires_into_auxiliary_police_and_village_posts(
    jobs, employer, post, offered, rpc
):
    def fair(mode, hours_ago=1):
        rpc.jobs.schedule_fair(
            {
                "title": "退役军人专场招聘会",
                "county_code": "652301",
                "mode": mode,
                "starts_at": (bureau_now() - dt.timedelta(hours=hours_ago)).isoformat(),
                "stream_url": "https://live.example.cn/fair/1",
                "venue": "昌吉市人力资源市场",
            }
        )

    for mode in ("online_live", "online_live", "offline", "hybrid"):
        fair(mode)
    fair("offline", hours_ago=-48)  # in two days: not held yet

    police = post(occupation="auxiliary_police", title="辅警", openings=3)
    cadre = post(occupation="village_cadre", title="村（社区）“两委”后备干部", openings=2)
    driver = post()
    for posting, county in (
        (police, "652301"),
        (police, "652302"),
        (cadre, "652301"),
        (driver, "652301"),
    ):
        application = offered(posting, county_code=county)
        rpc.jobs.hire(application["id"], {"started_on": in_days(1), "salary": 4000})
    offered(cadre)  # an offer is not a placement

    everywhere = rpc.jobs.stats()
    assert everywhere["fairs_held"] == 4
    assert everywhere["fairs_by_mode"] == {"online_live": 2, "offline": 1, "hybrid": 1}
    assert everywhere["auxiliary_police_placements"] == 2
    assert everywhere["village_cadre_placements"] == 1
    assert everywhere["hires"] == 4
    # Hires count in the veteran's county, fairs in their own.
    county = rpc.jobs.stats("652302")
    assert county["auxiliary_police_placements"] == 1 and county["village_cadre_placements"] == 0
    assert county["fairs_by_mode"] == {"online_live": 0, "offline": 0, "hybrid": 0}
