"""/metrics of one process on the real broker and database: RPCs by method and outcome,
events handled, failed and dead-lettered by handler, batch sizes, the outbox and relay, the
dead-letter queue's depth and the pool, each read back from the text Prometheus scrapes."""

import json
import uuid

import pytest
import requests
from kombu import Connection, Producer
from nameko.exceptions import MethodNotFound, RemoteError
from nameko.testing.utils import get_container
from prometheus_client.parser import text_string_to_metric_families

from services.registry.service import RegistryService
from shared.errors import NotFound, Unauthorized
from shared.probes import Probes
from shared.relay import OutboxRelay
from tests.factories import make_veteran
from tests.helpers import publish, queue_depth, registered_event, scalar, wait_for
from tests.integration.fixtures.metered import POISON_COUNTY, Metered


def extension(container, cls):
    return next(d for d in container.dependencies if isinstance(d, cls))


def scrape(container):
    """{(name, frozenset(labels)): value} of the container's /metrics."""
    port = extension(container, Probes).port
    reply = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def rpc_count(samples, method, outcome):
    return value(
        samples, "vetsvc_rpc_requests_total", service="sink", method=method, outcome=outcome
    )


@pytest.fixture
def system(start):
    runner = start(Metered, RegistryService)
    return get_container(runner, Metered), get_container(runner, RegistryService)


def test_rpcs_are_counted_and_timed_by_method_and_outcome(system, rpc_as, config):
    sink, _ = system
    with rpc_as(None) as proxy:
        for _ in range(3):
            assert proxy.sink.fine() == "fine"
        with pytest.raises(NotFound):
            proxy.sink.missing()
        with pytest.raises(RemoteError):
            proxy.sink.broken()
        with pytest.raises(Unauthorized):
            proxy.sink.guarded()
        with pytest.raises(MethodNotFound):
            proxy.sink.no_such_method()
    with Connection(config["AMQP_URI"]) as conn:  # no reply_to: refused at the boundary
        Producer(conn.default_channel).publish(
            json.dumps({"args": [], "kwargs": {}}),
            exchange="nameko-rpc",
            routing_key="sink.fine",
            content_type="application/json",
            correlation_id=uuid.uuid4().hex,
        )
    wait_for(lambda: rpc_count(scrape(sink), "fine", "refused") == 1, message="the refusal")

    samples = scrape(sink)
    assert rpc_count(samples, "fine", "ok") == 3
    assert rpc_count(samples, "missing", "expected_error") == 1
    assert rpc_count(samples, "broken", "unexpected_error") == 1
    assert rpc_count(samples, "guarded", "refused") == 1
    assert rpc_count(samples, "unknown", "refused") == 1  # the name asked for is not a label
    assert not [key for key in samples if ("method", "no_such_method") in key[1]]
    timed = value(
        samples, "vetsvc_rpc_duration_seconds_count", service="sink", method="fine", outcome="ok"
    )
    assert timed == 3
    assert (
        0
        < value(
            samples, "vetsvc_rpc_duration_seconds_sum", service="sink", method="fine", outcome="ok"
        )
        < 3
    )
    assert (
        value(
            samples,
            "vetsvc_rpc_duration_seconds_bucket",
            service="sink",
            method="fine",
            outcome="ok",
            le="+Inf",
        )
        == 3
    )
    assert value(samples, "process_resident_memory_bytes") > 10_000_000
    assert value(samples, "vetsvc_db_pool_connections_max", service="sink") == 12
    assert value(samples, "vetsvc_db_pool_connections_in_use", service="sink") == 0


def test_events_are_counted_handled_failed_and_dead_lettered_by_handler(system, config):
    sink, registry = system
    good = [registered_event() for _ in range(3)]
    poison = registered_event(county_code=POISON_COUNTY)
    forged = {**registered_event(), "source": "loans"}  # through registry.events: refused
    for event in [*good, poison, forged]:
        publish(config, event)

    def handled(samples, handler):
        return value(samples, "vetsvc_events_handled_total", service="sink", handler=handler)

    # DELIVERY_LIMIT is 3 in the test config: the poison is delivered 4 times, then given up.
    wait_for(
        lambda: queue_depth(config, "sink.dlq") == 3,
        timeout=30,
        message="the poison and the two copies of the forged event dead-lettered",
    )
    wait_for(lambda: handled(scrape(sink), "on_batch") == 4, message="the batch handler")
    samples = wait_for(
        lambda: (
            (s := scrape(sink))
            and value(s, "vetsvc_dead_letter_messages", service="sink", queue="sink.dlq") == 3
            and s
        ),
        timeout=15,
        message="the dead-letter depth (read at most every 5 s)",
    )
    assert handled(samples, "on_registered") == 3
    assert (
        value(samples, "vetsvc_events_failed_total", service="sink", handler="on_registered") == 4
    )
    assert (
        value(
            samples,
            "vetsvc_events_dead_lettered_total",
            service="sink",
            handler="on_registered",
            outcome="given_up",
        )
        == 1
    )
    for handler in ("on_registered", "on_batch"):
        assert (
            value(
                samples,
                "vetsvc_events_dead_lettered_total",
                service="sink",
                handler=handler,
                outcome="refused",
            )
            == 1
        )
    assert value(samples, "vetsvc_event_batch_size_sum", service="sink", handler="on_batch") == 4
    assert value(samples, "vetsvc_event_batch_size_count", service="sink", handler="on_batch") <= 4
    # Each container has its own registry: nothing of sink in registry's, and the reverse.
    assert not [key for key in scrape(registry) if ("service", "sink") in key[1]]
    assert not [key for key in samples if ("service", "registry") in key[1]]


def test_the_outbox_and_the_relay_are_read_at_scrape_time(system, rpc, db):
    _, registry = system
    veteran = rpc.registry.register_veteran(make_veteran())
    samples = wait_for(
        lambda: (
            (s := scrape(registry))
            and value(s, "vetsvc_events_published_total", service="registry") == 1
            and s
        ),
        message="the registration's event published",
    )
    assert value(samples, "vetsvc_relay_leader", service="registry") == 1
    assert value(samples, "vetsvc_outbox_backlog", service="registry") == 0
    assert value(samples, "vetsvc_outbox_oldest_age_seconds", service="registry") == 0
    assert (
        value(
            samples,
            "vetsvc_rpc_requests_total",
            service="registry",
            method="register_veteran",
            outcome="ok",
        )
        == 1
    )
    assert veteran["id"] not in scrape(registry).__repr__()  # no veteran data in a label

    extension(registry, OutboxRelay)._thread.kill()  # nothing publishes from here on
    with db.cursor() as cur:
        cur.execute(
            "INSERT INTO registry.outbox (event_id, exchange, routing_key, body,"
            " created_at) VALUES (%s, 'registry.events', 'veteran_registered', '{}',"
            " now() - interval '90 seconds')",
            (uuid.uuid4(),),
        )
    samples = scrape(registry)
    assert value(samples, "vetsvc_relay_leader", service="registry") == 0
    assert value(samples, "vetsvc_outbox_backlog", service="registry") == 1
    assert value(samples, "vetsvc_outbox_oldest_age_seconds", service="registry") >= 90
    assert scalar(db, "SELECT count(*) FROM registry.outbox WHERE published_at IS NULL") == 1
