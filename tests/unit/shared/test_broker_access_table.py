"""The broker permission table against the code that uses it: every queue, binding and
routing key the services really make is allowed to its owner and to nobody else."""

import re
import uuid

import pytest
from nameko.rpc import Rpc

from shared import boundary, broker_access
from shared.messaging import handler_queues
from tests.integration.vetctl.conftest import service_classes

ACCESS = broker_access.accesses()
SERVICES = {cls.name: cls for cls in service_classes()}


def allows(regex, name):
    return re.fullmatch(regex, name) is not None


def rpc_methods(cls):
    return [
        name
        for name in dir(cls)
        if any(isinstance(e, Rpc) for e in getattr(getattr(cls, name), "nameko_entrypoints", ()))
    ]


def test_the_table_names_every_service_and_only_those():
    assert set(broker_access.services()) == set(SERVICES)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_service_may_bind_from_exactly_the_exchanges_its_handlers_bind(service):
    bound = {b.exchange.name for q in handler_queues(SERVICES[service], {}) for b in q.bindings}
    table = broker_access.load()["services"][service]["subscribes_to"]
    assert {f"{source}.events" for source in table} == bound
    events = [f"{name}.events" for name in SERVICES]
    assert {e for e in events if allows(ACCESS[service].read, e)} == bound


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_services_queues_are_its_own(service):
    own = [q.name for q in handler_queues(SERVICES[service], {})] + [f"rpc-{service}"]
    for name in own:
        for kind in ("configure", "write", "read"):
            assert allows(getattr(ACCESS[service], kind), name), (kind, name)
        for other, access in ACCESS.items():
            if other != service:
                assert not allows(access.read, name), (other, name)
                assert not allows(access.configure, name), (other, name)
    # Its dead letters: declared and bound by the service, read only by operations.
    dlq = f"{service}.dlq"
    assert allows(ACCESS[service].configure, dlq) and not allows(ACCESS[service].read, dlq)
    assert [user for user, access in ACCESS.items() if allows(access.read, dlq)] == ["operations"]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_only_the_owner_publishes_to_an_events_exchange(service):
    writers = [user for user, access in ACCESS.items() if allows(access.write, f"{service}.events")]
    assert writers == [service]


def test_the_operator_may_call_every_rpc_and_bind_only_reply_keys():
    topics = ACCESS["vetctl"].topics["nameko-rpc"]
    for name, cls in SERVICES.items():
        methods = rpc_methods(cls)
        assert "health" in methods
        for method in methods:
            assert allows(topics["write"], f"{name}.{method}"), f"{name}.{method}"
        assert not allows(topics["read"], f"{name}.*")
    assert allows(topics["read"], str(uuid.uuid4()))
    assert not allows(topics["read"], "#") and not allows(topics["write"], str(uuid.uuid4()))


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_service_binds_nameko_rpc_with_its_own_key_and_replies_with_reply_keys(service):
    topics = ACCESS[service].topics["nameko-rpc"]
    assert [n for n in SERVICES if allows(topics["read"], f"{n}.*")] == [service]
    assert allows(topics["write"], str(uuid.uuid4()))
    assert not any(allows(topics["write"], f"{n}.health") for n in SERVICES)


def test_the_boundary_and_the_broker_agree_on_what_a_reply_key_is():
    assert boundary.REPLY_KEY.pattern == f"^{broker_access.load()['reply_key']}$"


def test_every_exchange_a_user_may_bind_or_publish_with_keys_has_its_rules_declared():
    declared = set(broker_access.exchanges())
    for access in ACCESS.values():
        assert set(access.topics) <= declared


def test_a_prefix_keeps_logins_apart():
    assert broker_access.user_name("registry", "t1-") == "t1-registry"
