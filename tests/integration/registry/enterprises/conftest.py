"""Fixtures of the enterprise integration tests: registry running, registered veterans,
a founder and a booklet of theirs."""

import pytest

from services.registry.service import RegistryService
from tests.factories import make_veteran, unique_id_numbers
from tests.integration.registry.enterprises.booklets import make_enterprise


@pytest.fixture
def registry(start):
    return start(RegistryService)


@pytest.fixture
def veterans(registry, rpc):
    """``veterans(n, county_code=...)``: n registered veterans with distinct ID numbers."""

    def register(count=1, **overrides):
        county = overrides.get("county_code", "652301")
        return [
            rpc.registry.register_veteran(make_veteran(id_number=number, **overrides))
            for number in unique_id_numbers(count, county=county)
        ]

    return register


@pytest.fixture
def founder(veterans):
    return veterans(1, name="张伟")[0]


@pytest.fixture
def enterprise(founder, rpc):
    return rpc.registry.register_enterprise(make_enterprise([founder["id"]]))
