"""PostgreSQL for services: a green-thread-safe connection pool, a dependency provider
that gives each worker one transaction, and the ``Store`` base class through which a
service reads and writes its own schema, its outbox and its inbox.

The transaction is committed by the project's entrypoints (``shared.messaging``) before
the RPC reply or the event ack goes out, never after: nameko sends replies before
``worker_result`` runs, so committing there could confirm a change that then fails.

Every pooled connection carries the service's ``statement_timeout`` (``STATEMENT_TIMEOUT_MS``)
as a connection option: no statement holds a worker longer, and one cancelled by it ends
the worker's transaction as ``StatementTimeout``.

A connection lost during COMMIT leaves the outcome unknown to the worker. The session
learns the transaction's id before it commits (``pg_current_xact_id_if_assigned``) and,
after such a loss, asks the database on a new connection what became of it
(``pg_xact_status``, the check PostgreSQL documents for this case), for at most
``COMMIT_RESOLVE_SECONDS`` while the server comes back: committed is the worker's
success, aborted a failure that changed nothing; only an answer that never came leaves it
``outcome_unknown``. Workers of entrypoints whose caller waits for the answer do this
(``resolves_lost_commits``: RPC, HTTP); an event handler's message is simply delivered
again, and its inbox makes that harmless, so it spares the round trip (bench ``commit``).

Over 400 lines: the pool, the session and the provider share one transaction's life (its
connection, its commit, the lost-COMMIT lookup), which a reader follows here top to bottom;
the statement builders every store uses (``insert``, ``in_counties``, ``like_*``) sit below."""

import inspect
import queue
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import amqp.exceptions
import eventlet
import kombu.exceptions
import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import psycopg2.sql
import structlog
from nameko.extensions import DependencyProvider

from shared import migrations, outbox
from shared.clock import Clock
from shared.config import database_url
from shared.errors import ServiceError, StatementTimeout

log = structlog.get_logger(__name__)
psycopg2.extras.register_uuid()
# The OS's select, not eventlet's: a zero-timeout look at a socket needs no trip to the hub.
_select = eventlet.patcher.original("select").select
PROBE_TIMEOUT = 2.0  # seconds /readyz waits for the database
# A statement that runs longer is cancelled by PostgreSQL; 0 means no limit.
DEFAULT_STATEMENT_TIMEOUT_MS = 15_000
# How long a session whose COMMIT lost its connection keeps asking what became of it.
DEFAULT_COMMIT_RESOLVE_SECONDS = 15.0
RESOLVE_CONNECT_TIMEOUT = 3  # seconds, for each try to reach the server again


class DatabaseUnavailable(ServiceError):
    pass


def is_transient(exc):
    """A failure of the database or the broker, not of the message: connection lost, admin
    shutdown, a server starting up, serialization failures and deadlocks, statement
    timeouts, no pooled connection free. Handlers retry these without using up the
    message's delivery limit (``shared.messaging``)."""
    return isinstance(
        exc,
        (
            psycopg2.OperationalError,
            psycopg2.InterfaceError,
            DatabaseUnavailable,
            StatementTimeout,
            ConnectionError,
            TimeoutError,
            amqp.exceptions.ConnectionError,
            kombu.exceptions.OperationalError,
        ),
    )


class ConnectionPool:
    """At most ``size`` connections; a caller waits for a free one rather than failing."""

    def __init__(self, dsn, schema, size=10, timeout=10, statement_timeout_ms=None):
        self.dsn, self.schema, self.size, self.timeout = dsn, schema, size, timeout
        self.statement_timeout_ms = statement_timeout_ms
        self._free: queue.LifoQueue = queue.LifoQueue()
        self._created = 0
        self._lock = threading.Lock()

    def connect(self, **kwargs):
        options = f"-c search_path={self.schema},public"
        if self.statement_timeout_ms is not None:
            # Set once per connection, not per transaction: a SET LOCAL would be one more
            # round trip on every transaction (measured: 329 → 444 µs for a trivial one).
            options += f" -c statement_timeout={int(self.statement_timeout_ms)}"
        return psycopg2.connect(
            self.dsn, options=options, application_name=f"veteran-services:{self.schema}", **kwargs
        )

    def get(self):
        while True:
            try:
                conn = self._free.get_nowait()
            except queue.Empty:
                break
            if not _hung_up(conn):
                return conn
            self.put(conn, broken=True)
        with self._lock:
            grow = self._created < self.size
            if grow:
                self._created += 1
        if grow:
            try:
                return self.connect()
            except psycopg2.Error:
                with self._lock:
                    self._created -= 1
                raise
        try:
            return self._free.get(timeout=self.timeout)
        except queue.Empty:
            raise DatabaseUnavailable("no database connection free; try again") from None

    def put(self, conn, broken=False):
        if broken or conn.closed:
            with self._lock:
                self._created -= 1
            try:
                conn.close()
            except psycopg2.Error:
                pass
            return
        self._free.put(conn)

    def in_use(self):
        """Connections taken by workers now (for /metrics)."""
        return max(self._created - self._free.qsize(), 0)

    def close(self):
        while True:
            try:
                self._free.get_nowait().close()
            except queue.Empty:
                return


def _hung_up(conn):
    """An idle connection the server has written to or closed (a restart's or a crash's
    "terminating connection", EOF) is dead: found without a round trip, so a worker after a
    database restart does not fail once per stale pooled connection."""
    if conn.closed:
        return True
    try:
        return bool(_select([conn], [], [], 0)[0])
    except (OSError, ValueError, psycopg2.Error):
        return True


class Session:
    """One worker's transaction; the connection is taken on first use."""

    def __init__(
        self, pool, worker_ctx, clock=None, resolve_seconds=DEFAULT_COMMIT_RESOLVE_SECONDS
    ):
        self.pool, self.worker_ctx, self.clock = pool, worker_ctx, clock
        self.resolve_seconds = resolve_seconds  # None or 0: COMMIT without learning the id
        self.conn: Any = None  # a psycopg2 connection once taken
        self.finished = False
        self.committed = False  # by the worker itself, before its end (``commit``)

    def cursor(self, **kwargs):
        if self.conn is None:
            self.conn = self.pool.get()
        return self.conn.cursor(**kwargs)

    @property
    def correlation_id(self):
        if self.worker_ctx is None:
            return None
        return self.worker_ctx.data.setdefault("correlation_id", uuid.uuid4().hex)

    def commit(self):
        """Commit what the worker has done so far; its next statement starts a new
        transaction. For sweeps that take one batch per transaction: the project's
        entrypoints still end the last one."""
        if self.conn is not None:
            self.committed = True
            self.conn.commit()

    def finish(self, exc_info):
        """Commit when the worker succeeded, roll back when it raised. Returns the
        exc_info to report, which is the commit's own error if the commit failed, and
        ``StatementTimeout`` for a statement the database cancelled."""
        if self.finished:
            return exc_info
        self.finished = True
        if self.conn is None:
            return exc_info
        xid = None  # the transaction's id; False: it wrote nothing; None: not asked
        try:
            if exc_info is None:
                xid = False  # should the lookup itself fail, no COMMIT was sent
                xid = self._xid()
                self.conn.commit()
            else:
                self.conn.rollback()
        except psycopg2.Error as exc:
            if exc_info is None:
                # Lost during COMMIT: it may have committed or not. (An error the server
                # answered with, on a live connection, rolled back; a transaction that
                # wrote nothing had nothing to lose.)
                lost = xid is not False and (bool(self.conn.closed) or exc.pgcode is None)
                self._release(broken=True)
                status = self._resolve(xid) if lost and xid else None
                log.warning(
                    "db.commit_failed",
                    error=type(exc).__name__,
                    outcome=status or ("unknown" if lost else "rolled back"),
                )
                if status == "committed":
                    return self._reported(self._marked(None))
                # read by shared.messaging: the event is kept, not dead-lettered
                exc.outcome_unknown = lost and status is None  # type: ignore[attr-defined]
            else:  # the work failed already, often for the same reason (connection lost)
                log.warning("db.rollback_failed", error=type(exc).__name__)
                self._release(broken=True)
            return self._reported(self._marked(exc_info) or sys.exc_info())
        return self._reported(self._marked(exc_info))

    def _xid(self):
        """The open transaction's id when this session resolves lost commits (else None):
        False if it wrote nothing, or failed (its COMMIT is a rollback). A failure here
        happens before COMMIT: nothing committed."""
        if not self.resolve_seconds:
            return None
        if self.conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_INTRANS:
            return False
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_current_xact_id_if_assigned()::text")
            return cur.fetchone()[0] or False

    def _resolve(self, xid):
        """What became of transaction ``xid`` whose COMMIT lost its connection:
        "committed", "aborted", or None when the database gave no answer in time, or
        cannot tell (an id it has not reached: a replica promoted without it)."""
        deadline = time.monotonic() + self.resolve_seconds
        delay = 0.1
        while True:
            try:
                conn = self.pool.connect(connect_timeout=RESOLVE_CONNECT_TIMEOUT)
                try:
                    conn.autocommit = True
                    with conn.cursor() as cur:
                        cur.execute("SELECT pg_xact_status(%s::xid8)", (xid,))
                        status = cur.fetchone()[0]
                finally:
                    conn.close()
                if status in ("committed", "aborted"):
                    return status
                # "in progress": the old backend is still at its COMMIT
            except psycopg2.errors.InvalidParameterValue:  # "transaction ID … in the future"
                return None
            except psycopg2.Error:  # not back yet
                pass
            if time.monotonic() + delay > deadline:
                return None
            eventlet.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _marked(self, exc_info):
        """A failure after the worker committed part of its work (``commit``) has not
        left the database as it found it: ``outcome_unknown``, so nothing runs it again."""
        if exc_info is not None and self.committed:
            try:
                exc_info[1].outcome_unknown = True
            except AttributeError:  # an exception without a __dict__
                pass
        return exc_info

    def _reported(self, exc_info):
        if exc_info is None or not isinstance(exc_info[1], psycopg2.errors.QueryCanceled):
            return exc_info
        # The transaction is rolled back and the connection fit for the next worker; the
        # caller learns why in words, not as a psycopg2 class it cannot rebuild.
        limit = self.pool.statement_timeout_ms
        log.warning("db.statement_cancelled", statement_timeout_ms=limit)
        error = StatementTimeout(
            f"the database cancelled a statement after the {limit} ms statement_timeout;"
            " nothing was changed: try again later, or with less at once",
            {"statement_timeout_ms": str(limit)},
        )
        error.__cause__ = exc_info[1]
        return (StatementTimeout, error, exc_info[2])

    def close(self):
        if self.conn is not None:
            if not self.finished:
                try:
                    self.conn.rollback()
                except psycopg2.Error:
                    self._release(broken=True)
                    return
            self._release(broken=False)

    def _release(self, broken):
        conn, self.conn = self.conn, None
        if conn is not None:
            self.pool.put(conn, broken=broken or conn.closed != 0)


class Store:
    """Base of each service's store: the only place that writes SQL for a service."""

    def __init__(self, session, service):
        self.session = session
        self.service = service

    def cursor(self, **kwargs):
        return self.session.cursor(**kwargs)

    def commit(self):
        """See ``Session.commit``: ends this batch's transaction."""
        self.session.commit()

    def dict_cursor(self):
        return self.session.cursor(cursor_factory=psycopg2.extras.RealDictCursor)

    def claim_signature(self, table, digest, signed_at) -> bool:
        """Records a partner request's signature (shared.http) in ``table`` (digest,
        signed_at); False if it was recorded already. A second request with it while the
        first's transaction is open waits for that to end: then it finds the row (409), or
        none if the first rolled back."""
        with self.cursor() as cur:
            cur.execute(
                psycopg2.sql.SQL(
                    "INSERT INTO {} (digest, signed_at) VALUES (%s, to_timestamp(%s))"
                    " ON CONFLICT DO NOTHING"
                ).format(psycopg2.sql.Identifier(table)),
                (digest, signed_at),
            )
            return cur.rowcount == 1

    def forget_signatures(self, table, before) -> int:
        """Deletes the signatures in ``table`` signed before unix time ``before`` (by the
        index on signed_at); returns how many."""
        with self.cursor() as cur:
            cur.execute(
                psycopg2.sql.SQL("DELETE FROM {} WHERE signed_at < to_timestamp(%s)").format(
                    psycopg2.sql.Identifier(table)
                ),
                (before,),
            )
            return cur.rowcount

    def emit(self, *events):
        """Write events to this service's outbox, inside the business transaction; returns
        their envelopes."""
        return outbox.append(self, events)

    def claim(self, handler, event_id):
        """Record that ``handler`` took ``event_id``; False if it already had it."""
        with self.cursor() as cur:
            cur.execute(
                "INSERT INTO inbox (handler, event_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (handler, event_id),
            )
            return cur.rowcount == 1

    def claim_many(self, handler, event_ids):
        """``claim`` for many events in one statement; returns the ids newly claimed."""
        with self.cursor() as cur:
            cur.execute(
                "INSERT INTO inbox (handler, event_id)"
                " SELECT %s, id FROM unnest(%s::uuid[]) AS id"
                " ON CONFLICT DO NOTHING RETURNING event_id",
                (handler, sorted(set(event_ids))),
            )
            return {str(row[0]) for row in cur.fetchall()}

    def outbox_backlog(self):
        return outbox.backlog(self)


class Database(DependencyProvider):
    """Injects ``store_cls(session)``; runs the service's migrations when it starts."""

    def __init__(self, store_cls=Store, migrations_dir=None):
        self.store_cls = store_cls
        self.migrations_dir = migrations_dir
        self.sessions = {}
        self._probe: Any = None  # /readyz's own connection, opened on first probe

    def setup(self):
        config = self.container.config
        self.schema = config.get("DB_SCHEMA") or self.container.service_name
        self.dsn = database_url(config)
        directory = self.migrations_dir or (
            Path(inspect.getfile(self.container.service_cls)).parent / "migrations"
        )
        migrations.apply(self.dsn, self.schema, directory)
        size = int(config.get("DB_POOL_SIZE") or config.get("max_workers", 10) + 2)
        timeout = config.get("STATEMENT_TIMEOUT_MS")
        self.pool = ConnectionPool(
            self.dsn,
            self.schema,
            size=size,
            statement_timeout_ms=int(
                DEFAULT_STATEMENT_TIMEOUT_MS if timeout in (None, "") else timeout
            ),
        )
        resolve = config.get("COMMIT_RESOLVE_SECONDS")
        self.resolve_seconds = float(
            DEFAULT_COMMIT_RESOLVE_SECONDS if resolve in (None, "") else resolve
        )
        # The service's clock stamps its events: a test that freezes it freezes them too.
        self.clock = next((d for d in self.container.dependencies if isinstance(d, Clock)), None)

    def stop(self):
        self._close_sessions()
        self.pool.close()
        self._close_probe()

    def kill(self):
        self._close_sessions()
        self.pool.close()
        self._close_probe()

    def _close_sessions(self):
        """Workers that a stop or kill ended mid-transaction never reach worker_teardown:
        their connections (in a transaction, maybe holding row locks) are closed here, so
        the server rolls them back now, not whenever the garbage collector gets to them.
        Seen: a killed batch handler's connection left "idle in transaction" holding its
        locks until the process ended."""
        sessions, self.sessions = list(self.sessions.values()), {}
        for session in sessions:
            conn, session.conn = session.conn, None
            if conn is not None:
                try:
                    conn.close()
                except psycopg2.Error:
                    pass

    def ready_problem(self):
        """For /readyz: None if the database answers ``SELECT 1`` within 2 s, on a
        connection of the probe's own (a pool busy with work is not a database down)."""
        try:
            with eventlet.Timeout(PROBE_TIMEOUT):
                if self._probe is None or self._probe.closed:
                    self._probe = self.pool.connect()
                    self._probe.autocommit = True
                with self._probe.cursor() as cur:
                    cur.execute("SELECT 1")
        except (psycopg2.Error, eventlet.Timeout) as exc:
            self._close_probe()
            return f"database: {type(exc).__name__}"
        return None

    def _close_probe(self):
        probe, self._probe = self._probe, None
        if probe is not None:
            try:
                probe.close()
            except psycopg2.Error:
                pass

    def get_dependency(self, worker_ctx):
        clock = self.clock.clock if self.clock is not None else None
        resolves = getattr(worker_ctx.entrypoint, "resolves_lost_commits", False)
        session = Session(self.pool, worker_ctx, clock, self.resolve_seconds if resolves else None)
        self.sessions[worker_ctx] = session
        return self.store_cls(session, self.container.service_name)

    def finish_worker(self, worker_ctx, exc_info):
        session = self.sessions.get(worker_ctx)
        return session.finish(exc_info) if session else exc_info

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        # Entrypoints that are not the project's own (timers) end their transaction here.
        self.finish_worker(worker_ctx, exc_info)

    def worker_teardown(self, worker_ctx):
        session = self.sessions.pop(worker_ctx, None)
        if session:
            session.close()


def where(*conditions):
    """``(clause, value)`` pairs whose value is not None → (" WHERE a AND b", [values])."""
    chosen = [(clause, value) for clause, value in conditions if value is not None]
    if not chosen:
        return "", []
    return " WHERE " + " AND ".join(c for c, _ in chosen), [v for _, v in chosen]


def insert(cur, table, row, suffix=""):
    """``INSERT INTO table`` of one dict ``row``: its keys name the columns, its values go
    in as parameters. ``table``, the keys and ``suffix`` (``ON CONFLICT …``, ``RETURNING
    …``) are the store's own fixed text, never a client's."""
    columns = list(row)
    cur.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES"
        f" ({', '.join(['%s'] * len(columns))}){suffix}",
        [row[c] for c in columns],
    )


def in_counties(column="county_code", param="c"):
    """SQL that is true for rows whose ``column`` is one of the counties in the named
    parameter ``%(param)s`` (a list of codes), or for every row when it is None (a scope
    of all counties): ``(%(c)s::text[] IS NULL OR county_code = ANY(%(c)s::text[]))``."""
    return f"(%({param})s::text[] IS NULL OR {column} = ANY(%({param})s::text[]))"


def like_escaped(text):
    """``text`` as a literal inside a LIKE/ILIKE pattern: its ``%``, ``_`` and ``\\``
    match themselves (backslash is LIKE's default escape character)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_containing(text):
    """A LIKE/ILIKE pattern matching values that contain ``text`` as it is."""
    return f"%{like_escaped(text)}%"


def finish_unit_of_work(container, worker_ctx, exc_info):
    """Called by entrypoints before they reply or ack: ends every worker transaction."""
    for dependency in container.dependencies:
        finish = getattr(dependency, "finish_worker", None)
        if finish is not None:
            exc_info = finish(worker_ctx, exc_info)
    return exc_info
