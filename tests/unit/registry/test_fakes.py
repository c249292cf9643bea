"""The unit tests' fakes of registry's stores (``fakes.py``) keep to the real stores'
interfaces: a method a fake offers is one its real store has, with the same parameters,
so a store whose signature changes fails here rather than in a test that still passes."""

import inspect

import pytest

from services.registry.bulk_store import BulkStore
from services.registry.enterprise_store import EnterpriseStore
from services.registry.search_store import SearchStore
from services.registry.store import RegistryStore, VeteranStore
from tests.unit.registry import fakes

PAIRS = [
    (fakes.FakeVeteranStore, VeteranStore),
    (fakes.FakeEnterpriseStore, EnterpriseStore),
    (fakes.FakeSearchStore, SearchStore),
    (fakes.FakeBulkStore, BulkStore),
    (fakes.FakeRegistryStore, RegistryStore),
]


def public_methods(cls):
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


@pytest.mark.parametrize("fake,real", PAIRS, ids=lambda cls: cls.__name__)
def test_each_fake_method_has_the_real_stores_name_and_parameters(fake, real):
    real_methods = public_methods(real)
    for name, method in public_methods(fake).items():
        assert name in real_methods, f"{fake.__name__}.{name}: {real.__name__} has no {name}"
        assert inspect.signature(method) == inspect.signature(real_methods[name]), name


@pytest.mark.parametrize("fake,real", PAIRS[:4], ids=lambda cls: cls.__name__)
def test_each_fake_covers_the_methods_its_store_defines_that_the_service_calls(fake, real):
    # The methods the service's RPCs reach in unit tests; the rest (history, audit
    # entries, founders) are read by integration tests against the real store.
    own = {
        name
        for name in vars(real)
        if not name.startswith("_") and inspect.isfunction(vars(real)[name])
    }
    missing = (
        own
        - set(public_methods(fake))
        - {"history", "audit_entries", "search_enterprises", "founders_of"}
    )
    assert missing == set()
