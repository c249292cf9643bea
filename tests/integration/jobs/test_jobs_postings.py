"""jobs: employers and postings, their events, search and closing."""

import datetime as dt

import pytest
from nameko.testing.services import entrypoint_hook
from nameko.testing.utils import get_container

from services.jobs.service import JobsService
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import token
from tests.helpers import bureau_today, scalar
from tests.integration.jobs.conftest import USCC, in_days


def test_an_employer_is_registered_once_per_credit_code(jobs, rpc, employer, db):
    assert employer["uscc"] == USCC and employer["county_code"] == "652301"
    assert rpc.jobs.get_employer(employer["id"])["name"] == "昌吉市顺达物流有限公司"
    with pytest.raises(Conflict) as caught:
        rpc.jobs.register_employer(
            {"name": "另一家", "uscc": USCC, "county_code": "652302", "industry": "retail"}
        )
    assert caught.value.details["employer_id"] == employer["id"]
    assert scalar(db, "SELECT count(*) FROM jobs.employers") == 1


@pytest.mark.parametrize(
    "data,field",
    [
        ({"uscc": "91652301MA78K2Q5X4"}, "uscc"),  # wrong check character
        ({"county_code": "110101"}, "county_code"),  # outside the jurisdiction
        ({"industry": "piracy"}, "industry"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"name": ""}, "name"),
        ({"federation_member": "yes"}, "federation_member"),
    ],
)
def test_a_bad_employer_is_invalid_input_naming_the_field(jobs, rpc, db, data, field):
    good = {"name": "某公司", "uscc": USCC, "county_code": "652301", "industry": "logistics"}
    with pytest.raises(InvalidInput) as caught:
        rpc.jobs.register_employer({**good, **data})
    assert field in caught.value.errors
    assert scalar(db, "SELECT count(*) FROM jobs.employers") == 0


def test_posting_a_job_stores_it_and_emits_job_posted(post, rpc, db):
    posting = post(dedicated=True, certificates_preferred=["驾驶证B2"])
    assert posting["status"] == "open" and posting["remaining"] == 2
    assert posting["source"] == "local" and posting["dedicated"] is True
    assert rpc.jobs.get_job(posting["id"])["title"] == "货车司机"
    body = scalar(db, "SELECT body FROM jobs.outbox")
    assert body["type"] == "job_posted"
    assert body["data"] == {
        "posting_id": posting["id"],
        "employer_id": posting["employer_id"],
        "county_code": "652301",
        "occupation": "driver",
        "skills_required": ["driver_b2"],
        "openings": 2,
        "dedicated": True,
        "source": "local",
    }


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"salary_min": 8000, "salary_max": 7000}, "salary_max"),
        ({"openings": 0}, "openings"),
        ({"openings": "2"}, "openings"),
        ({"occupation": "astronaut"}, "occupation"),
        ({"skills_required": ["juggling"]}, "skills_required.0"),
        ({"closes_on": "2020-01-01"}, "closes_on"),
        ({"closes_on": "soon"}, "closes_on"),
        ({"employer_id": "00000000-0000-0000-0000-000000000000"}, "employer_id"),
        ({"source": "bureau"}, "source"),  # only the bureau's HTTP integration posts as bureau
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_posting_is_invalid_input_and_nothing_is_written(post, db, fields, field):
    with pytest.raises(InvalidInput) as caught:
        post(**fields)
    assert field in caught.value.errors
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 0
    assert scalar(db, "SELECT count(*) FROM jobs.outbox") == 0


def test_a_county_clerk_posts_only_in_their_counties(jobs, employer, config, rpc_as, db):
    data = {
        "employer_id": employer["id"],
        "title": "保安",
        "occupation": "security_guard",
        "county_code": "652301",
        "salary_min": 3000,
        "salary_max": 4000,
        "openings": 1,
        "closes_on": in_days(10),
    }
    with rpc_as(token("county", ["652301"])) as clerk:
        with pytest.raises(Forbidden) as refused:
            clerk.jobs.post_job({**data, "county_code": "652302"})
    assert "652302" not in str(refused.value)
    # Another county's employer is answered as an unknown one.
    with rpc_as(token("county", ["652302"])) as clerk:
        with pytest.raises(InvalidInput) as outside:
            clerk.jobs.post_job({**data, "county_code": "652302"})
        with pytest.raises(InvalidInput) as unknown:
            clerk.jobs.post_job(
                {
                    **data,
                    "county_code": "652302",
                    "employer_id": "00000000-0000-0000-0000-000000000000",
                }
            )
    assert (
        outside.value.errors
        == unknown.value.errors
        == {"employer_id": ["no employer with this id"]}
    )
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 0


def test_closing_a_job_emits_job_closed_once(post, rpc, db):
    posting = post()
    closed = rpc.jobs.close_job(posting["id"], "withdrawn")
    assert closed["status"] == "closed" and closed["closed_reason"] == "withdrawn"
    with pytest.raises(Conflict):
        rpc.jobs.close_job(posting["id"], "withdrawn")
    with pytest.raises(InvalidInput):
        rpc.jobs.close_job(posting["id"], "bored")
    types = scalar(db, "SELECT array_agg(routing_key ORDER BY id) FROM jobs.outbox")
    assert types == ["job_posted", "job_closed"]


def test_unknown_ids_are_not_found_and_bad_ids_invalid(jobs, rpc):
    with pytest.raises(NotFound):
        rpc.jobs.get_job("00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidInput) as caught:
        rpc.jobs.get_job("not-an-id")
    assert "posting_id" in caught.value.errors


def test_search_filters_pages_and_totals(post, rpc):
    for _ in range(3):
        post()
    post(
        occupation="security_guard",
        skills_required=["security_guard"],
        county_code="652302",
        salary_min=3000,
        salary_max=4000,
    )
    closed = post()
    rpc.jobs.close_job(closed["id"], "cancelled")

    everything = rpc.jobs.search_jobs({"status": "any"})
    assert everything["total"] == 5
    open_drivers = rpc.jobs.search_jobs({"occupation": "driver"}, page=1, page_size=2)
    assert open_drivers["total"] == 3 and len(open_drivers["items"]) == 2
    second = rpc.jobs.search_jobs({"occupation": "driver"}, page=2, page_size=2)
    assert len(second["items"]) == 1
    ids = [p["id"] for p in open_drivers["items"] + second["items"]]
    assert len(set(ids)) == 3 and closed["id"] not in ids
    assert rpc.jobs.search_jobs({"county_code": "652302"})["total"] == 1
    assert rpc.jobs.search_jobs({"skill": "security_guard"})["total"] == 1
    assert rpc.jobs.search_jobs({"min_salary": 6000})["total"] == 3
    assert rpc.jobs.search_jobs({"status": "closed"})["items"][0]["id"] == closed["id"]
    assert rpc.jobs.search_jobs({"title": "司机%"})["total"] == 0  # % is a character here
    with pytest.raises(InvalidInput) as caught:
        rpc.jobs.search_jobs({"county_code": "999999"}, page=0)
    assert set(caught.value.errors) >= {"county_code"}


def test_a_posting_whose_date_passed_is_closed_by_the_sweep_and_announced(jobs, post, rpc, db):
    posting, current = post(), post()
    with db.cursor() as cur:  # time passes: its date is yesterday
        cur.execute(
            "UPDATE jobs.postings SET closes_on = %s WHERE id = %s",
            (bureau_today() - dt.timedelta(days=1), posting["id"]),
        )
    assert rpc.jobs.get_job(posting["id"])["status"] == "closed"  # shown closed at once
    assert [p["id"] for p in rpc.jobs.search_jobs()["items"]] == [current["id"]]

    container = get_container(jobs, JobsService)
    with entrypoint_hook(container, "close_expired_postings") as sweep:
        assert sweep() == 1
    with entrypoint_hook(container, "close_expired_postings") as sweep:
        assert sweep() == 0  # nothing twice
    assert (
        scalar(db, "SELECT closed_reason FROM jobs.postings WHERE id = %s", posting["id"])
        == "expired"
    )
    assert scalar(db, "SELECT status FROM jobs.postings WHERE id = %s", current["id"]) == "open"
    closed = scalar(db, "SELECT body FROM jobs.outbox WHERE routing_key = 'job_closed'")
    assert closed["data"] == {"posting_id": posting["id"], "reason": "expired"}
