"""shared.metrics without a broker or a database: a registry per container, outcomes,
the give-up rule, the labels allowed, and a scrape that never waits on what is down."""

import time
from types import SimpleNamespace

import psycopg2
from prometheus_client.parser import text_string_to_metric_families

from shared import metrics
from shared.db import ConnectionPool, Database
from shared.errors import NotFound, ServiceError
from shared.relay import OutboxRelay

ALLOWED_LABELS = {"service", "method", "handler", "outcome", "queue", "le"}


def make_container(name="registry", dependencies=(), **config):
    return SimpleNamespace(
        service_name=name,
        dependencies=list(dependencies),
        config={"AMQP_URI": "pyamqp://guest:guest@127.0.0.1:1//", **config},
    )


def families(service_metrics):
    return {
        f.name: f for f in text_string_to_metric_families(service_metrics.exposition().decode())
    }


def sample(service_metrics, name, **labels):
    for family in text_string_to_metric_families(service_metrics.exposition().decode()):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return None


def test_each_container_has_its_own_registry():
    one, two = make_container("registry"), make_container("loans")
    assert metrics.of(one) is metrics.of(one)
    assert metrics.of(one).registry is not metrics.of(two).registry
    metrics.of(one).rpc_done("health", metrics.OK, time.perf_counter())
    assert (
        sample(
            metrics.of(one),
            "vetsvc_rpc_requests_total",
            service="registry",
            method="health",
            outcome="ok",
        )
        == 1
    )
    assert (
        sample(
            metrics.of(two),
            "vetsvc_rpc_requests_total",
            service="registry",
            method="health",
            outcome="ok",
        )
        is None
    )


def test_an_rpc_is_counted_and_timed_under_its_method_and_outcome():
    m = metrics.of(make_container())
    m.rpc_done("get_card", metrics.EXPECTED, time.perf_counter() - 0.2)
    m.rpc_done("get_card", metrics.EXPECTED, time.perf_counter())
    labels = {"service": "registry", "method": "get_card", "outcome": "expected_error"}
    assert sample(m, "vetsvc_rpc_requests_total", **labels) == 2
    assert sample(m, "vetsvc_rpc_duration_seconds_count", **labels) == 2
    assert 0.2 <= sample(m, "vetsvc_rpc_duration_seconds_sum", **labels) < 1
    assert sample(m, "vetsvc_rpc_duration_seconds_bucket", le="0.1", **labels) == 1


def test_outcomes_follow_the_entrypoints_expected_exceptions():
    def info(exc):
        return (type(exc), exc, None)

    assert metrics.rpc_outcome(None, ServiceError) == "ok"
    assert metrics.rpc_outcome(info(NotFound("x")), ServiceError) == "expected_error"
    assert metrics.rpc_outcome(info(KeyError("x")), ServiceError) == "unexpected_error"


def test_a_failure_on_the_last_delivery_is_given_up():
    config = {"DELIVERY_LIMIT": 3}

    def delivered(returned):
        return SimpleNamespace(headers={} if returned is None else {"x-delivery-count": returned})

    assert not metrics.given_up(delivered(None), config)
    assert not metrics.given_up(delivered(2), config)
    assert metrics.given_up(delivered(3), config)
    assert metrics.given_up(delivered(3), {}) is False  # the default limit is 5


def test_counters_carry_only_the_allowed_labels_and_no_created_series():
    m = metrics.of(make_container())
    m.rpc_done("health", metrics.OK, time.perf_counter())
    m.handled("on_registered"), m.failed("on_registered"), m.batch("on_batch", 7)
    m.dead_lettered("on_registered", metrics.GIVEN_UP)
    found = families(m)
    assert {
        "vetsvc_rpc_requests",
        "vetsvc_rpc_duration_seconds",
        "vetsvc_events_handled",
        "vetsvc_events_failed",
        "vetsvc_events_dead_lettered",
        "vetsvc_event_batch_size",
    } <= set(found)
    for family in found.values():
        for s in family.samples:
            assert not s.name.endswith("_created"), s.name
            if s.name.startswith("vetsvc_"):
                assert set(s.labels) <= ALLOWED_LABELS, s


def test_state_is_read_at_scrape_time_and_what_is_down_is_left_out_quickly():
    pool = ConnectionPool("postgresql://postgres@127.0.0.1:1/none", "registry", size=4)
    pool._created, database = 3, Database()
    pool._free.put(object())  # one of the three is back in the pool
    database.pool = pool
    relay = OutboxRelay()
    relay.leader, relay.published = True, 42
    m = metrics.of(make_container(dependencies=[database, relay]))
    began = time.monotonic()
    found = families(m)
    assert time.monotonic() - began < metrics.SCRAPE_TIMEOUT * 2
    assert sample(m, "vetsvc_db_pool_connections_in_use", service="registry") == 2
    assert sample(m, "vetsvc_db_pool_connections_max", service="registry") == 4
    assert sample(m, "vetsvc_relay_leader", service="registry") == 1
    assert sample(m, "vetsvc_events_published_total", service="registry") == 42
    # The database and the broker do not answer (port 1): no outbox, no dead-letter depth.
    assert "vetsvc_outbox_backlog" not in found
    assert "vetsvc_dead_letter_messages" not in found
    assert "process_resident_memory_bytes" in {s.name for f in found.values() for s in f.samples}


def test_a_dead_broker_is_asked_at_most_every_few_seconds():
    depth = metrics.DeadLetterDepth(make_container())
    assert depth.queue == "registry.dlq"
    assert depth.get() is None
    asked_at = depth.read_at
    assert depth.get() is None and depth.read_at == asked_at  # cached, not asked again


def test_an_outbox_query_that_fails_closes_its_connection():
    class Broken:
        closed = 0
        autocommit = False

        def cursor(self):
            raise psycopg2.OperationalError("server closed the connection")

        def close(self):
            Broken.closed = 1

    database = SimpleNamespace(pool=SimpleNamespace(connect=Broken))
    state = metrics.of(make_container()).state
    assert state._outbox(database) is None
    assert state._outbox_conn is None and Broken.closed == 1
