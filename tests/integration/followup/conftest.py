"""Fixtures for followup: the service with a frozen clock, and events delivered as the
other services publish them."""

import datetime as dt
import uuid

import pytest
from nameko.testing.services import entrypoint_hook, entrypoint_waiter
from nameko.testing.utils import get_container

from services.followup.service import FollowupService
from shared.clock import Clock, FrozenClock
from tests import helpers
from tests.helpers import publish

START = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Changji


def envelope(source, event_type, occurred_at=None, **data):
    """As tests.helpers.envelope, but occurring at the scenario's START unless told."""
    return helpers.envelope(source, event_type, occurred_at or START, **data)


def hired(veteran_id, started_on="2026-11-02", county="652301"):
    return envelope(
        "jobs",
        "veteran_hired",
        application_id=str(uuid.uuid4()),
        veteran_id=veteran_id,
        posting_id=str(uuid.uuid4()),
        employer_id=str(uuid.uuid4()),
        employer_name="昌吉市顺达物流有限公司",
        county_code=county,
        started_on=started_on,
        salary=5000,
        channel="referral",
    )


def freeze(container, at=START):
    frozen = FrozenClock(at)
    for dependency in container.dependencies:
        if isinstance(dependency, Clock):
            dependency.clock = frozen
    return frozen


# The scheduler's own timer never fires in these tests: they tick it themselves.
QUIET = {"SCHEDULER_INTERVAL": 3600}


def registered(veteran_id, county="652301", occurred_at=None):
    return envelope(
        "registry",
        "veteran_registered",
        occurred_at,
        veteran_id=veteran_id,
        county_code=county,
        gender="male",
        birth_year=1990,
        discharge_type="self_employment",
        discharged_on="2016-12-01",
        skills=[],
        certificates=[],
        willingness="business",
        service_needs=[],
        employment_status="unemployed",
        intentions={"occupations": [], "counties": [], "min_salary": None},
    )


def disbursed(veteran_id, enterprise_id=None, occurred_at=None):
    return envelope(
        "loans",
        "loan_disbursed",
        occurred_at,
        loan_id=str(uuid.uuid4()),
        veteran_id=veteran_id,
        enterprise_id=enterprise_id,
        product_code="yongjun_chuangye",
        amount="100000.00",
        status="active",
    )


def tick_once(container):
    """Run the scheduler once, as its timer would, and return when its transaction has
    committed (``entrypoint_hook`` alone returns before nameko's ``worker_result``)."""
    with entrypoint_waiter(container, "run_scheduler") as finished:
        with entrypoint_hook(container, "run_scheduler") as scheduler:
            scheduler()
    return finished.get()


@pytest.fixture
def followup(start):
    return get_container(start(FollowupService, **QUIET), FollowupService)


@pytest.fixture
def clock(followup):
    return freeze(followup)


@pytest.fixture
def deliver(followup, config):
    def send(event, container=None):
        with entrypoint_waiter(container or followup, "on_events", timeout=15):
            publish(config, event, source=event["source"])
        return event

    return send


@pytest.fixture
def tick(followup):
    """Run the scheduler once (as its timer would); → how many became due."""

    def run(container=None):
        return tick_once(container or followup)

    return run
