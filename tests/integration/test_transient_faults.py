"""A database fault is not a poison message: a handler that fails because the database
went away is run again after a backoff without using up the delivery limit (3 in the test
config), while a handler that fails on the message itself still reaches the dead letters.
An RPC whose connection was lost before it committed runs again and answers; one lost
during its COMMIT is answered by what the database says became of its transaction, and
only when the database cannot say (outcome unknown) does the caller hear of it."""

import threading
import time
from urllib.parse import urlsplit, urlunsplit

import eventlet
import psycopg2
import pytest
from nameko.exceptions import RemoteError

from shared.db import ConnectionPool, Database, Store
from shared.messaging import batch_event_handler, event_handler
from shared.messaging import rpc as rpc_entrypoint
from tests.helpers import publish, queue_depth, registered_event, scalar, wait_for


class Flaky:
    """Fails with a database error for the first ``FAILURES`` deliveries of each event."""

    name = "sink"
    FAILURES = 6  # twice the delivery limit
    seen, done = {}, []

    def fail_first(self, event_ids):
        for event_id in event_ids:  # every event of the attempt counts it, then it fails
            Flaky.seen[event_id] = Flaky.seen.get(event_id, 0) + 1
        if any(Flaky.seen[event_id] <= Flaky.FAILURES for event_id in event_ids):
            raise psycopg2.OperationalError("server closed the connection unexpectedly")


class FlakySingle(Flaky):
    store = Database(Store, migrations_dir="/nonexistent")

    @event_handler("registry", "veteran_registered")
    def on_registered(self, event):
        if event.data["county_code"] == "652302":
            raise ValueError("this event itself is bad")
        self.fail_first([event.event_id])
        Flaky.done.append(event.event_id)


class FlakyBatch(Flaky):
    store = Database(Store, migrations_dir="/nonexistent")

    @batch_event_handler("registry", "veteran_registered")
    def on_registered(self, events):
        self.fail_first([e.event_id for e in events])
        Flaky.done.extend(e.event_id for e in events)


@pytest.fixture(autouse=True)
def clean():
    Flaky.seen.clear(), Flaky.done.clear()


@pytest.mark.parametrize("service", [FlakySingle, FlakyBatch])
def test_a_database_fault_is_retried_past_the_delivery_limit(start, config, service):
    start(service)
    events = [registered_event() for _ in range(3)]
    for event in events:
        publish(config, event)
    wait_for(
        lambda: set(Flaky.done) >= {e["event_id"] for e in events},
        timeout=60,
        message="every event handled after the fault",
    )
    assert all(Flaky.seen[e["event_id"]] == Flaky.FAILURES + 1 for e in events)
    assert queue_depth(config, "sink.dlq") == 0


def test_a_bad_event_still_reaches_the_dead_letters(start, config):
    start(FlakySingle)
    publish(config, registered_event(county_code="652302"))
    wait_for(lambda: queue_depth(config, "sink.dlq") == 1, timeout=30, message="a dead letter")


def test_connections_killed_under_a_stream_of_events_lose_nothing(start, config, db, database_url):
    """loans' database connections terminated every 20 ms for three seconds (as a
    restarting PostgreSQL does to them) while 300 veterans' events arrive: every one is
    assessed, none dead-lettered."""
    from services.loans.service import LoansService

    start(LoansService)
    stop = threading.Event()

    def killer():
        conn = psycopg2.connect(database_url)
        conn.autocommit = True
        deadline = time.monotonic() + 3
        with conn.cursor() as cur:
            while not stop.is_set() and time.monotonic() < deadline:
                cur.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = 'veteran-services:loans'"
                    " AND datname = current_database()"
                )
                killed.append(cur.fetchone()[0])
                time.sleep(0.02)  # the fault's rhythm (a kill every 20 ms), not a wait
        conn.close()

    killed, thread = [], threading.Thread(target=killer)
    thread.start()
    try:
        for event in (registered_event(willingness="business") for _ in range(300)):
            publish(config, event)
    finally:
        thread.join()
    assert sum(killed) > 10  # the fault really happened, many times over
    wait_for(
        lambda: (
            scalar(db, "SELECT count(DISTINCT veteran_id) FROM loans.eligibility_assessments")
            == 300
        ),
        timeout=90,
        message="an assessment of every veteran",
    )
    assert queue_depth(config, "loans.dlq") == 0


class Notes:
    """An RPC that writes a note; ``DIE_FIRST``: its first attempt's connection is lost
    before it commits (the backend terminates itself)."""

    name = "sink"
    store = Database(Store, migrations_dir="/nonexistent")
    attempts = []
    DIE_FIRST = True

    @rpc_entrypoint
    def write(self, note):
        Notes.attempts.append(note)
        with self.store.cursor() as cur:
            cur.execute("INSERT INTO notes (note) VALUES (%s)", (note,))
            if Notes.DIE_FIRST and len(Notes.attempts) == 1:
                cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return len(Notes.attempts)


@pytest.fixture
def notes(start, db):
    Notes.attempts.clear()
    Notes.DIE_FIRST = True
    runner = start(Notes)  # its schema exists once it has started
    with db.cursor() as cur:
        cur.execute(
            "DROP TABLE IF EXISTS sink.notes CASCADE; DROP SEQUENCE IF EXISTS sink.deaths;"
            " DROP FUNCTION IF EXISTS sink.die();"
            " CREATE TABLE sink.notes (note text NOT NULL)"
        )
    yield runner
    with db.cursor() as cur:
        cur.execute(
            "DROP TABLE IF EXISTS sink.notes CASCADE; DROP SEQUENCE IF EXISTS sink.deaths;"
            " DROP FUNCTION IF EXISTS sink.die()"
        )


def test_an_rpc_whose_connection_is_lost_before_commit_runs_again_and_answers(notes, rpc, db):
    assert rpc.sink.write("once") == 2  # the second attempt answered the caller
    assert Notes.attempts == ["once", "once"]
    assert scalar(db, "SELECT count(*) FROM sink.notes") == 1


def test_an_rpc_whose_commit_was_lost_before_it_committed_runs_again_and_answers(notes, rpc, db):
    """The backend dies inside COMMIT (a deferred trigger), once: its transaction aborted,
    the database says so, and the RPC runs again."""
    Notes.DIE_FIRST = False
    with db.cursor() as cur:
        cur.execute("""
            CREATE SEQUENCE sink.deaths;
            CREATE FUNCTION sink.die() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              IF nextval('sink.deaths') = 1 THEN  -- a sequence outlives the rollback
                PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);
              END IF;
              RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON sink.notes
              DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sink.die();""")
    assert rpc.sink.write("maybe") == 2
    assert Notes.attempts == ["maybe", "maybe"]
    assert scalar(db, "SELECT count(*) FROM sink.notes") == 1
    assert scalar(db, "SELECT last_value FROM sink.deaths") == 2  # the trigger ran twice


# psycopg2 blocks the whole process while it waits for the server: the proxy runs in
# threads of the OS, on the OS's sockets, not in green threads the service would starve.
_socket = eventlet.patcher.original("socket")
_threading = eventlet.patcher.original("threading")
_time = eventlet.patcher.original("time")


class CutAtCommit:
    """A TCP proxy in front of PostgreSQL that, once ``armed``, passes a COMMIT on to the
    server, lets the server commit and answer, and hangs up on the client instead of
    passing the answer on: the reply to a COMMIT lost on its way back. With
    ``refuse_after``, it then accepts no connection at all (the server out of reach)."""

    COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"  # the simple-query message psycopg2 sends

    def __init__(self, url, refuse_after=False):
        parts = urlsplit(url)
        self.target = (parts.hostname, parts.port or 5432)
        self.listener = _socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        host = f"{parts.username}@127.0.0.1:{self.listener.getsockname()[1]}"
        # No TLS, so the proxy sees the COMMIT.
        self.url = urlunsplit((parts.scheme, host, parts.path, "sslmode=disable", ""))
        self.armed, self.cut, self.refuse_after = False, 0, refuse_after
        self.sockets = []  # every connection's two ends, closed by ``close``
        _threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            if self.cut and self.refuse_after:
                client.close()
                continue
            upstream = _socket.create_connection(self.target)
            self.sockets += (client, upstream)
            cutting = _threading.Event()  # this connection's COMMIT is being cut
            _threading.Thread(
                target=self._pump, args=(client, upstream, cutting, True), daemon=True
            ).start()
            _threading.Thread(
                target=self._pump, args=(upstream, client, cutting, False), daemon=True
            ).start()

    def _pump(self, source, sink, cutting, to_server):
        try:
            while data := source.recv(65536):
                if not to_server and cutting.is_set():
                    return  # the server's answer to the COMMIT: dropped
                if to_server and self.armed and self.COMMIT in data:
                    self.armed = False
                    self.cut += 1
                    cutting.set()
                    sink.sendall(data)
                    _time.sleep(0.5)  # the server commits and answers: nobody hears it
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(_socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.listener.close()
        for sock in self.sockets:  # the pumps only shut them down: no socket is left open
            sock.close()


class NotesAfterArming(Notes):
    """``Notes`` that arms the proxy after its INSERT: the next COMMIT is cut."""

    proxy = None

    @rpc_entrypoint
    def write(self, note):
        Notes.attempts.append(note)
        with self.store.cursor() as cur:
            cur.execute("INSERT INTO notes (note) VALUES (%s)", (note,))
        NotesAfterArming.proxy.armed = True
        return len(Notes.attempts)


@pytest.fixture
def cut_notes(notes, start, database_url):
    notes.stop()
    proxies = []

    def started(refuse_after=False, **config):
        NotesAfterArming.proxy = CutAtCommit(database_url, refuse_after)
        proxies.append(NotesAfterArming.proxy)
        start(NotesAfterArming, DATABASE_URL=NotesAfterArming.proxy.url, **config)
        Notes.attempts.clear()
        return NotesAfterArming.proxy

    yield started
    for proxy in proxies:
        proxy.close()


def test_an_rpc_whose_commit_reply_was_lost_answers_once_from_what_the_database_says(
    cut_notes, rpc, db
):
    proxy = cut_notes()
    assert rpc.sink.write("committed") == 1  # the caller hears of its success
    assert proxy.cut == 1  # the COMMIT's answer really was lost
    assert Notes.attempts == ["committed"]  # not run again: it had committed
    assert scalar(db, "SELECT count(*) FROM sink.notes") == 1


def test_an_rpc_whose_commit_outcome_cannot_be_learnt_is_not_run_again(cut_notes, rpc, db):
    """The server out of reach after the lost COMMIT for longer than
    ``COMMIT_RESOLVE_SECONDS``: the outcome is unknown, the caller hears of it."""
    proxy = cut_notes(refuse_after=True, COMMIT_RESOLVE_SECONDS=1)
    with pytest.raises(RemoteError) as caught:
        rpc.sink.write("maybe")
    assert caught.value.exc_type == "OperationalError"
    assert proxy.cut == 1
    assert Notes.attempts == ["maybe"]
    assert scalar(db, "SELECT count(*) FROM sink.notes") == 1  # it had in fact committed


def test_an_rpc_is_not_run_again_when_retries_are_off(start, notes, rpc):
    notes.stop()
    start(Notes, RPC_RETRY_SECONDS=0)
    Notes.attempts.clear()
    with pytest.raises(RemoteError) as caught:
        rpc.sink.write("once")
    assert caught.value.exc_type == "OperationalError"
    assert Notes.attempts == ["once"]


def test_a_pooled_connection_the_server_hung_up_on_is_not_handed_out(database_url):
    pool = ConnectionPool(database_url, "public", size=2)
    conn = pool.get()
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        dead_pid = cur.fetchone()[0]
    conn.rollback()
    pool.put(conn)
    killer = psycopg2.connect(database_url)
    killer.autocommit = True
    with killer.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (dead_pid,))
    killer.close()
    # The server's "terminating connection" reaches the idle socket (what the pool looks for).
    readable = eventlet.patcher.original("select").select  # as the pool looks (shared/db.py)
    wait_for(
        lambda: readable([conn], [], [], 0)[0],
        timeout=5,
        interval=0.02,
        message="the server's hang-up to reach the idle connection",
    )
    try:
        again = pool.get()
        with again.cursor() as cur:  # no OperationalError: a live connection
            cur.execute("SELECT pg_backend_pid()")
            assert cur.fetchone()[0] != dead_pid
        assert pool._created == 1
        pool.put(again)
    finally:
        pool.close()
