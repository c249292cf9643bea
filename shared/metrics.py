"""Prometheus metrics of one service process, served at ``GET /metrics`` by ``shared.probes``.

Each container has a registry of its own (``of(container)``): nameko runs one service per
process, tests run several in one. Labels are only ``service``, ``method``, ``handler``,
``outcome`` and ``queue``, never anything about a veteran or an operator. Counters are
counted where the entrypoints decide (``shared.messaging``); everything that is a state
(outbox backlog, relay leadership, pool, dead letters, memory) is read at scrape time, so
the hot path pays one counter and one histogram per call.

    vetsvc_rpc_requests_total{service,method,outcome}        outcome: ok, expected_error,
    vetsvc_rpc_duration_seconds{service,method,outcome}        unexpected_error, refused
    vetsvc_events_handled_total{service,handler}
    vetsvc_events_failed_total{service,handler}
    vetsvc_events_dead_lettered_total{service,handler,outcome}  outcome: refused, given_up
    vetsvc_event_batch_size{service,handler}
    vetsvc_outbox_backlog{service}, vetsvc_outbox_oldest_age_seconds{service}
    vetsvc_relay_leader{service}, vetsvc_events_published_total{service},
    vetsvc_events_unroutable_total{service}
    vetsvc_dead_letter_messages{service,queue}
    vetsvc_db_pool_connections_in_use{service}, vetsvc_db_pool_connections_max{service}
    process_resident_memory_bytes, process_cpu_seconds_total, … (prometheus_client)"""

import time
from typing import Any

import eventlet
import eventlet.semaphore
import prometheus_client
import psycopg2
import structlog
from kombu import Connection
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from shared import outbox
from shared.config import amqp_uri

log = structlog.get_logger(__name__)
# Without this every counter also exposes a ``_created`` series: twice the series for nothing.
prometheus_client.disable_created_metrics()

PREFIX = "vetsvc_"
OK, EXPECTED, UNEXPECTED, REFUSED = "ok", "expected_error", "unexpected_error", "refused"
GIVEN_UP = "given_up"
UNKNOWN_METHOD = "unknown"  # a routing key that names no method: never the key itself
RPC_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
SCRAPE_TIMEOUT = 2.0  # seconds a scrape waits for the database or the broker
DEAD_LETTERS_TTL = 5.0  # seconds a dead-letter queue depth is reused
CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST

ATTRIBUTE = "vetsvc_metrics"  # on the container: extensions hold it as a weakref proxy


def of(container):
    """The metrics of ``container``, made on first use."""
    metrics = getattr(container, ATTRIBUTE, None)
    if metrics is None:
        metrics = ServiceMetrics(container)
        setattr(container, ATTRIBUTE, metrics)
    return metrics


class ServiceMetrics:
    def __init__(self, container):
        self.container = container
        self.service = container.service_name
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        labels = ("service", "method", "outcome")
        self.rpc_requests = Counter(
            PREFIX + "rpc_requests",
            "RPC requests answered, by method and outcome",
            labels,
            registry=self.registry,
        )
        self.rpc_duration = Histogram(
            PREFIX + "rpc_duration_seconds",
            "From a request's arrival in this process to its reply",
            labels,
            buckets=RPC_BUCKETS,
            registry=self.registry,
        )
        handler = ("service", "handler")
        self.events_handled = Counter(
            PREFIX + "events_handled",
            "Events handled and acked (duplicates included)",
            handler,
            registry=self.registry,
        )
        self.events_failed = Counter(
            PREFIX + "events_failed",
            "Event deliveries whose handler raised (each attempt)",
            handler,
            registry=self.registry,
        )
        self.events_dead_lettered = Counter(
            PREFIX + "events_dead_lettered",
            "Events sent to the dead letters: refused at the"
            " bus boundary, or given up after the delivery limit",
            handler + ("outcome",),
            registry=self.registry,
        )
        self.batch_size = Histogram(
            PREFIX + "event_batch_size",
            "Events per batch of a batch handler",
            handler,
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self._rpc = {}
        self.state = _StateCollector(self)
        self.registry.register(self.state)

    # -- RPC ------------------------------------------------------------------------------
    def rpc_done(self, method, outcome, started):
        """One RPC answered; ``started`` is its ``time.perf_counter()`` on arrival."""
        children = self._rpc.get((method, outcome))
        if children is None:
            children = self._rpc[method, outcome] = (
                self.rpc_requests.labels(self.service, method, outcome),
                self.rpc_duration.labels(self.service, method, outcome),
            )
        children[0].inc()
        children[1].observe(time.perf_counter() - started)

    # -- events -----------------------------------------------------------------------------
    def handled(self, handler, count=1):
        self.events_handled.labels(self.service, handler).inc(count)

    def failed(self, handler, count=1):
        self.events_failed.labels(self.service, handler).inc(count)

    def dead_lettered(self, handler, outcome):
        self.events_dead_lettered.labels(self.service, handler, outcome).inc()

    def batch(self, handler, size):
        self.batch_size.labels(self.service, handler).observe(size)

    def exposition(self):
        return prometheus_client.generate_latest(self.registry)


def rpc_outcome(exc_info, expected_exceptions):
    if exc_info is None:
        return OK
    return EXPECTED if isinstance(exc_info[1], expected_exceptions) else UNEXPECTED


def given_up(message, config):
    """A failed delivery that the broker will dead-letter rather than requeue: a quorum
    queue counts returns in ``x-delivery-count`` and dead-letters past ``x-delivery-limit``."""
    from shared.messaging import DEFAULT_DELIVERY_LIMIT  # messaging imports this module

    limit = int(config.get("DELIVERY_LIMIT", DEFAULT_DELIVERY_LIMIT))
    returned = (getattr(message, "headers", None) or {}).get("x-delivery-count") or 0
    return int(returned) >= limit


class _StateCollector:
    """What is read at scrape time from the container's own dependencies."""

    def __init__(self, metrics):
        self.metrics = metrics
        self.dead_letters = DeadLetterDepth(metrics.container)
        self._outbox_conn: Any = None
        self._outbox_lock = eventlet.semaphore.Semaphore()

    def describe(self):
        return []  # collected only when scraped: no database trip at registration

    def collect(self):
        from shared.db import Database  # db → outbox; metrics is imported by messaging
        from shared.relay import OutboxRelay

        service = self.metrics.service
        dependencies = self.metrics.container.dependencies
        database = next((d for d in dependencies if isinstance(d, Database)), None)
        relay = next((d for d in dependencies if isinstance(d, OutboxRelay)), None)
        if database is not None and getattr(database, "pool", None) is not None:
            pool = database.pool
            yield _gauge(
                "db_pool_connections_in_use",
                "Pooled database connections taken by workers",
                service,
                pool.in_use(),
            )
            yield _gauge(
                "db_pool_connections_max", "Most connections the pool opens", service, pool.size
            )
            figures = self._outbox(database)
            if figures is not None:
                yield _gauge(
                    "outbox_backlog",
                    "Outbox rows not yet published",
                    service,
                    figures["outbox_backlog"],
                )
                yield _gauge(
                    "outbox_oldest_age_seconds",
                    "Age of the oldest unpublished outbox row (0 when none)",
                    service,
                    figures["outbox_oldest_seconds"],
                )
        if relay is not None:
            yield _gauge(
                "relay_leader",
                "1 while this process holds the relay's lock",
                service,
                int(relay.leader),
            )
            yield _counter(
                "events_published",
                "Outbox rows published by this process's relay (broker-confirmed)",
                service,
                relay.published,
            )
            yield _counter(
                "events_unroutable",
                "Published events no queue was bound for",
                service,
                relay.unroutable,
            )
        depth = self.dead_letters.get()
        if depth is not None:
            family = GaugeMetricFamily(
                PREFIX + "dead_letter_messages",
                "Messages waiting in the service's dead-letter queue",
                labels=("service", "queue"),
            )
            family.add_metric((service, self.dead_letters.queue), depth)
            yield family

    def _outbox(self, database):
        """``outbox.backlog`` on a connection of the scrape's own, within 2 s, else None
        (a pool busy with work, or a database down, must not hold a scrape)."""
        if not self._outbox_lock.acquire(blocking=False):
            return None  # a scrape is already on it
        try:
            with eventlet.Timeout(SCRAPE_TIMEOUT):
                if self._outbox_conn is None or self._outbox_conn.closed:
                    self._outbox_conn = database.pool.connect()
                    self._outbox_conn.autocommit = True
                return outbox.backlog(self._outbox_conn)
        except (psycopg2.Error, eventlet.Timeout) as exc:
            log.warning("metrics.outbox_unavailable", error=type(exc).__name__)
            self.close()
            return None
        finally:
            self._outbox_lock.release()

    def close(self):
        conn, self._outbox_conn = self._outbox_conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg2.Error:
                pass


class DeadLetterDepth:
    """``<service>.dlq``'s depth from a passive ``queue_declare`` on a connection kept for
    it, at most every ``DEAD_LETTERS_TTL`` seconds, given up after ``SCRAPE_TIMEOUT``: a
    scrape never waits on a broker that is gone (the depth is then left out)."""

    def __init__(self, container):
        from shared.messaging import dead_letter_names

        self.config = container.config
        self.queue = dead_letter_names(container.service_name)[1]
        self.value, self.read_at = None, float("-inf")
        self.conn: Any = None
        self.channel: Any = None
        self._lock = eventlet.semaphore.Semaphore()

    def get(self):
        if time.monotonic() - self.read_at < DEAD_LETTERS_TTL:
            return self.value
        if not self._lock.acquire(blocking=False):
            return self.value
        try:
            with eventlet.Timeout(SCRAPE_TIMEOUT):
                if self.conn is None:
                    self.conn = Connection(
                        amqp_uri(self.config), connect_timeout=SCRAPE_TIMEOUT, heartbeat=0
                    )
                    # kombu's connect() and default_channel wait 2 s before they try again
                    self.conn.ensure_connection(max_retries=1, interval_start=0)
                    self.channel = self.conn.channel()
                self.value = self.channel.queue_declare(self.queue, passive=True).message_count
        except (Exception, eventlet.Timeout) as exc:  # broker gone, queue not declared yet
            log.warning(
                "metrics.dead_letters_unavailable", queue=self.queue, error=type(exc).__name__
            )
            self.close()
            self.value = None
        finally:
            self.read_at = time.monotonic()
            self._lock.release()
        return self.value

    def close(self):
        conn, self.conn, self.channel = self.conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # closing a dead connection: nothing left to do
                pass


def _gauge(name, documentation, service, value):
    family = GaugeMetricFamily(PREFIX + name, documentation, labels=("service",))
    family.add_metric((service,), value)
    return family


def _counter(name, documentation, service, value):
    family = CounterMetricFamily(PREFIX + name, documentation, labels=("service",))
    family.add_metric((service,), value)
    return family


def close(container):
    """Drop ``container``'s scrape-time connections (its probes stop)."""
    metrics = getattr(container, ATTRIBUTE, None)
    if metrics is not None:
        metrics.state.close()
        metrics.state.dead_letters.close()
