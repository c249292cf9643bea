"""Fixtures for jobs: the service on the real servers, veterans it knows (through
registry's events, as in production), an employer and postings; the bureau's signed
headers."""

import urllib.parse

import pytest

from services.jobs.bureau import SIGNATURE, TIMESTAMP
from services.jobs.service import JobsService
from shared.http import signature, string_to_sign
from tests.helpers import bureau_now, days_from_today, publish, registered_event, scalar, wait_for

USCC = "91652301MA78K2Q5X3"
BUREAU_SECRET = "bureau-shared-secret-0123456789abcdef"


_signed = set()  # (secret, string to sign) of every request signed here


def bureau_headers(method, url, body=b"", secret=BUREAU_SECRET, skew=0):
    """The X-Bureau-* headers of ``method url`` (path and query taken from it) with ``body``,
    signed as the bureau signs (shared/http.py) at ``skew`` seconds from now. A signature is
    good once, so a request signed here before within the same second is dated a second
    earlier (as the bureau, resending, signs anew); to replay, reuse the headers."""
    parts = urllib.parse.urlsplit(url)
    stamp = int(bureau_now().timestamp()) + skew  # epoch seconds
    while (secret, string_to_sign(str(stamp), method, parts.path, parts.query, body)) in _signed:
        stamp -= 1
    _signed.add((secret, string_to_sign(str(stamp), method, parts.path, parts.query, body)))
    return {
        TIMESTAMP: str(stamp),
        SIGNATURE: signature(secret, str(stamp), method, parts.path, parts.query, body),
    }


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
        wait_for(
            lambda: scalar(
                db,
                "SELECT count(*) FROM jobs.veterans WHERE veteran_id = %s",
                event["data"]["veteran_id"],
            ),
            message="jobs' projection",
        )
        return event["data"]

    return make


@pytest.fixture
def employer(jobs, rpc):
    return rpc.jobs.register_employer(
        {
            "name": "昌吉市顺达物流有限公司",
            "uscc": USCC,
            "county_code": "652301",
            "industry": "logistics",
        }
    )


@pytest.fixture
def post(rpc, employer):
    """``post(**fields)``: a posting by the fixture's employer, driver in 652301 unless told."""

    def make(**fields):
        data = {
            "employer_id": employer["id"],
            "title": "货车司机",
            "occupation": "driver",
            "skills_required": ["driver_b2"],
            "county_code": "652301",
            "salary_min": 5000,
            "salary_max": 7000,
            "openings": 2,
            "closes_on": in_days(30),
        }
        data.update(fields)
        return rpc.jobs.post_job(data)

    return make
