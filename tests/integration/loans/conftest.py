"""Fixtures of loans' integration tests: the service, its frozen clock, a veteran it knows."""

import pytest
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_container

from services.loans.service import LoansService
from shared.clock import Clock, FrozenClock
from tests.helpers import publish, registered_event
from tests.integration.loans.loan_helpers import START


@pytest.fixture
def loans(start):
    return get_container(start(LoansService), LoansService)


@pytest.fixture
def clock(loans):
    frozen = FrozenClock(START)
    for dependency in loans.dependencies:
        if isinstance(dependency, Clock):
            dependency.clock = frozen
    return frozen


@pytest.fixture
def veteran(loans, config):
    """``veteran(**facts)``: a veteran loans knows (delivered as registry would)."""

    def make(**facts):
        event = registered_event(**{"willingness": "business", **facts})
        with entrypoint_waiter(loans, "on_registry_events", timeout=15):
            publish(config, event)
        return event["data"]["veteran_id"]

    return make
