"""The queues of inbox handlers, computed without a broker."""

import pytest
from nameko.events import get_event_exchange

from services.loans.service import LoansService
from shared.messaging import DEFAULT_DELIVERY_LIMIT, dead_letter_names, handler_queues

# loans takes registry's veteran and enterprise events through one queue, and jobs' hires
# (for employers' tax relief) through another.
QUEUES = {
    "evt-many--loans.on_registry_events": {
        "veteran_registered",
        "veteran_updated",
        "enterprise_registered",
        "enterprise_updated",
    },
    "evt-jobs-veteran_hired--loans.on_veteran_hired": {"veteran_hired"},
}
SOURCES = {"evt-many--loans.on_registry_events": "registry"}


@pytest.fixture
def queues():
    return {q.name: q for q in handler_queues(LoansService, {"DELIVERY_LIMIT": 4})}


def test_loans_has_one_queue_per_handler_named_as_nameko_names_them(queues):
    assert set(queues) == set(QUEUES)


@pytest.mark.parametrize("name", sorted(QUEUES))
def test_each_handler_queue_is_a_durable_quorum_queue_with_the_configured_limit(queues, name):
    queue = queues[name]
    assert queue.durable is True
    assert queue.auto_delete is False
    assert queue.queue_arguments["x-queue-type"] == "quorum"
    assert queue.queue_arguments["x-delivery-limit"] == 4


@pytest.mark.parametrize("name", sorted(QUEUES))
def test_each_handler_queue_dead_letters_to_loans_dlx_keeping_its_own_name(queues, name):
    args = queues[name].queue_arguments
    assert args["x-dead-letter-exchange"] == "loans.dlx" == dead_letter_names("loans")[0]
    assert args["x-dead-letter-routing-key"] == name


@pytest.mark.parametrize("name, event_types", sorted(QUEUES.items()))
def test_each_handler_queue_is_bound_to_its_sources_event_exchange_by_event_type(
    queues, name, event_types
):
    source = SOURCES.get(name, "jobs")
    bindings = queues[name].bindings
    assert {bound.routing_key for bound in bindings} == event_types
    for bound in bindings:
        assert bound.exchange.name == get_event_exchange(source, {}).name == f"{source}.events"
        assert bound.exchange.type == "topic"


def test_a_handler_of_many_event_types_has_one_queue_bound_to_each():
    from services.registry.reactions import TIMELINE_ONLY
    from services.registry.service import RegistryService

    queues = {q.name: q for q in handler_queues(RegistryService, {})}
    timeline = queues["evt-many--registry.on_timeline_event"]
    assert {(b.exchange.name, b.routing_key) for b in timeline.bindings} == {
        (f"{source}.events", event_type) for source, event_type in TIMELINE_ONLY
    }
    assert "evt-jobs-veteran_hired--registry.on_veteran_hired" in queues


def test_without_a_configured_limit_the_default_delivery_limit_applies():
    queues = handler_queues(LoansService, {})
    assert queues
    assert {q.queue_arguments["x-delivery-limit"] for q in queues} == {DEFAULT_DELIVERY_LIMIT}


def test_a_delivery_limit_from_an_environment_string_becomes_an_integer():
    queues = handler_queues(LoansService, {"DELIVERY_LIMIT": "7"})
    assert {q.queue_arguments["x-delivery-limit"] for q in queues} == {7}


def test_batch_handlers_prefetch_the_configured_batch_size_not_max_workers():
    from types import SimpleNamespace

    from shared.messaging import DEFAULT_BATCH_PREFETCH, BatchQueueConsumer

    consumer = BatchQueueConsumer()
    consumer.container = SimpleNamespace(max_workers=10, config={})
    assert consumer.prefetch_count == DEFAULT_BATCH_PREFETCH == 200
    consumer.container.config = {"BATCH_PREFETCH": "50"}  # from the environment: a string
    assert consumer.prefetch_count == 50
