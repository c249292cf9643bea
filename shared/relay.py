"""The outbox relay: publishes a service's outbox rows in order to ``<service>.events``,
persistent and ``mandatory``, with publisher confirms awaited per batch; a row is marked
published only after the broker has acked it. It never gives up: on any error it backs
off (capped) and starts again from the oldest unpublished row. It wakes on the NOTIFY a
committing transaction sends, and polls slowly as a safety net. Of several replicas,
one relays at a time (a PostgreSQL advisory lock), which keeps the order."""

import time
from typing import Any

import amqp
import eventlet
import psycopg2
import psycopg2.extensions
import structlog
from eventlet.hubs import trampoline
from kombu import Connection
from nameko.extensions import DependencyProvider

from shared import outbox
from shared.config import amqp_uri, database_url

log = structlog.get_logger(__name__)


class Publisher:
    """A confirming AMQP channel that publishes a batch and waits once for its acks."""

    def __init__(self, uri, confirm_timeout=10.0):
        self.uri, self.confirm_timeout = uri, confirm_timeout
        self.conn: Any = None  # a kombu Connection while connected

    def connect(self):
        kombu_conn = Connection(self.uri, connect_timeout=5)
        kombu_conn.connect()
        self._kombu = kombu_conn
        self.conn = kombu_conn.connection  # the underlying py-amqp connection
        self.channel = self.conn.channel()
        self.channel.confirm_select()
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self.channel.events["basic_return"].add(self._on_return)
        self.declared = set()
        self.tag = 0
        self.pending, self.nacked, self.returned = set(), set(), []

    def close(self):
        if self.conn is not None:
            try:
                self._kombu.release()
            except Exception:  # closing a dead connection: nothing left to do
                pass
            self.conn = None

    def _settle(self, delivery_tag, multiple):
        """Tags the broker has answered for: this one, or all up to it with ``multiple``."""
        settled = {t for t in self.pending if t <= delivery_tag} if multiple else {delivery_tag}
        self.pending -= settled
        return settled

    def _on_ack(self, delivery_tag, multiple):
        self._settle(delivery_tag, multiple)

    def _on_nack(self, delivery_tag, multiple, requeue=False):
        self.nacked |= self._settle(delivery_tag, multiple)

    def _on_return(self, exc, exchange, routing_key, message):
        self.returned.append(routing_key)

    def publish_batch(self, rows):
        """Publish rows, wait for the broker; return the ids confirmed, in order, up to
        the first one that was not (so order is kept on retry)."""
        if self.conn is None:
            self.connect()
        tags = []
        for row_id, event_id, exchange, routing_key, body, correlation_id in rows:
            if exchange not in self.declared:
                self.channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
                self.declared.add(exchange)
            headers = {"nameko.correlation_id": correlation_id} if correlation_id else {}
            message = amqp.Message(
                body.encode("utf-8"),
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=str(event_id),
                type=routing_key,
                application_headers=headers,
            )
            self.channel.basic_publish(
                message, exchange=exchange, routing_key=routing_key, mandatory=True
            )
            self.tag += 1
            self.pending.add(self.tag)
            tags.append((self.tag, row_id))
        deadline = time.monotonic() + self.confirm_timeout
        while self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("broker did not confirm the batch in time")
            self.conn.drain_events(timeout=remaining)
        confirmed = []
        for tag, row_id in tags:
            if tag in self.nacked:
                break
            confirmed.append(row_id)
        self.nacked.clear()
        returned, self.returned = self.returned, []
        return confirmed, returned


class OutboxRelay(DependencyProvider):
    """Runs the relay inside the service process; injects its status for ``health()``."""

    def __init__(self, batch_size=500, poll_interval=1.0, max_backoff=5.0, coalesce=0.025):
        self.batch_size, self.poll_interval, self.max_backoff = (
            batch_size,
            poll_interval,
            max_backoff,
        )
        self.coalesce = coalesce
        self._last_batch_at = 0.0
        self.published = 0
        self.unroutable = 0
        self.last_error = None
        self.leader = False

    def setup(self):
        config = self.container.config
        self.schema = config.get("DB_SCHEMA") or self.container.service_name
        self.dsn = database_url(config)
        self.uri = amqp_uri(config)
        self.batch_size = int(config.get("OUTBOX_BATCH_SIZE", self.batch_size))
        self.coalesce = float(config.get("OUTBOX_COALESCE_MS", self.coalesce * 1000)) / 1000
        self._stopping = False

    def start(self):
        self._thread = self.container.spawn_managed_thread(self.run)

    def stop(self):
        self._stopping = True
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.kill()

    kill = stop

    def get_dependency(self, worker_ctx):
        return self

    def ready_problem(self):
        """For /readyz: None while the relay's thread lives."""
        thread = getattr(self, "_thread", None)
        return "relay: not running" if thread is None or thread.dead else None

    def status(self):
        return {
            "relay_leader": self.leader,
            "published": self.published,
            "unroutable": self.unroutable,
            "relay_error": self.last_error,
        }

    def run(self):
        backoff = 0.1
        while not self._stopping:
            publisher = Publisher(self.uri)
            conn = None
            try:
                conn = psycopg2.connect(
                    self.dsn,
                    options=f"-c search_path={self.schema},public",
                    application_name=f"relay:{self.schema}",
                )
                conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
                with conn.cursor() as cur:
                    # Losing a "published" mark in a crash only means publishing the row
                    # again, which consumers' inboxes absorb; so don't wait for its fsync.
                    cur.execute("SET synchronous_commit TO off")
                self._lead(conn)
                with conn.cursor() as cur:
                    cur.execute(f'LISTEN "{outbox.channel(self.schema)}"')
                while not self._stopping:
                    sent = self.relay_once(conn, publisher)
                    if self.last_error:
                        log.info("relay.recovered", schema=self.schema)
                        self.last_error = None
                    backoff = 0.1
                    if sent < self.batch_size:
                        self._wait(conn)
            except Exception as exc:  # broker or database down: back off, start over
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "relay.retrying", schema=self.schema, error=self.last_error, backoff=backoff
                )
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            finally:
                self.leader = False
                publisher.close()
                if conn is not None:
                    conn.close()

    def _lead(self, conn):
        with conn.cursor() as cur:
            while not self._stopping:
                cur.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (f"relay:{self.schema}",))
                if cur.fetchone()[0]:
                    self.leader = True
                    return
                eventlet.sleep(2.0)  # another replica relays; take over if it dies

    def relay_once(self, conn, publisher):
        with conn.cursor() as cur:
            # body as text: it goes out as the bytes it was stored as, never re-encoded.
            cur.execute(
                "SELECT id, event_id, exchange, routing_key, body::text, correlation_id"
                " FROM outbox"
                " WHERE published_at IS NULL ORDER BY id LIMIT %s",
                (self.batch_size,),
            )
            rows = cur.fetchall()
        if not rows:
            return 0
        try:
            confirmed, returned = publisher.publish_batch(rows)
        except Exception:
            with conn.cursor() as cur:
                cur.execute(
                    "UPDATE outbox SET attempts = attempts + 1 WHERE id = ANY(%s)",
                    ([r[0] for r in rows],),
                )
            raise
        self._last_batch_at = time.monotonic()
        if confirmed:
            with conn.cursor() as cur:
                cur.execute(
                    "UPDATE outbox SET published_at = now(), attempts = attempts + 1"
                    " WHERE id = ANY(%s)",
                    (confirmed,),
                )
            self.published += len(confirmed)
        if returned:
            # Routed to no queue: no consumer has declared one yet. Logged and counted.
            self.unroutable += len(returned)
            log.warning(
                "relay.unroutable",
                schema=self.schema,
                count=len(returned),
                types=sorted(set(returned)),
            )
        if len(confirmed) < len(rows):
            raise RuntimeError(f"broker refused {len(rows) - len(confirmed)} events")
        return len(rows)

    def _wait(self, conn):
        try:
            trampoline(conn, read=True, timeout=self.poll_interval)
        except eventlet.timeout.Timeout:
            return
        # Woken by a commit. Under load (the last batch went out moments ago) give the
        # commits right behind it a few ms to land, so one batch (one SELECT, one confirm
        # wait, one UPDATE) carries many rows; when idle, publish at once.
        if time.monotonic() - self._last_batch_at < self.coalesce:
            eventlet.sleep(self.coalesce)
        conn.poll()
        conn.notifies.clear()
