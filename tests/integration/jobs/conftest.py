"""Fixtures for jobs: the service on the real servers, veterans it knows (through
registry's events, as in production), an employer and postings."""
import pytest

from services.jobs.service import JobsService
from tests.helpers import days_from_today, publish, registered_event, scalar, wait_for

USCC = "91652301MA78K2Q5X3"


in_days = days_from_today  # the bureau's today moved by ``days``, as ISO text


@pytest.fixture
def jobs(start):
    return start(JobsService)


@pytest.fixture
def known_veteran(config, db):
    """``known_veteran(**data)``: publishes ``veteran_registered`` and waits until jobs'
    projection holds the veteran; returns the event's data."""
    def make(**data):
        event = registered_event(willingness=data.pop("willingness", "job"), **data)
        publish(config, event)
        wait_for(lambda: scalar(db, "SELECT count(*) FROM jobs.veterans WHERE veteran_id = %s",
                                event["data"]["veteran_id"]), message="jobs' projection")
        return event["data"]
    return make


@pytest.fixture
def employer(jobs, rpc):
    return rpc.jobs.register_employer({"name": "昌吉市顺达物流有限公司", "uscc": USCC,
                                       "county_code": "652301", "industry": "logistics"})


@pytest.fixture
def post(rpc, employer):
    """``post(**fields)``: a posting by the fixture's employer, driver in 652301 unless told."""
    def make(**fields):
        data = {"employer_id": employer["id"], "title": "货车司机", "occupation": "driver",
                "skills_required": ["driver_b2"], "county_code": "652301",
                "salary_min": 5000, "salary_max": 7000, "openings": 2, "closes_on": in_days(30)}
        data.update(fields)
        return rpc.jobs.post_job(data)
    return make
