"""A database fault is not a poison message: a handler that fails because the database
went away is run again after a backoff without using up the delivery limit (3 in the test
config), while a handler that fails on the message itself still reaches the dead letters.
An RPC whose connection was lost before it committed runs again and answers; one lost
during its COMMIT (outcome unknown) is not run again."""
import threading
import time

import psycopg2
import pytest
from nameko.exceptions import RemoteError

from shared.db import ConnectionPool, Database, Store
from shared.messaging import batch_event_handler, event_handler, rpc as rpc_entrypoint
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
    wait_for(lambda: set(Flaky.done) >= {e["event_id"] for e in events}, timeout=60,
             message="every event handled after the fault")
    assert all(Flaky.seen[e["event_id"]] == Flaky.FAILURES + 1 for e in events)
    assert queue_depth(config, "sink.dlq") == 0


def test_a_bad_event_still_reaches_the_dead_letters(start, config):
    start(FlakySingle)
    publish(config, registered_event(county_code="652302"))
    wait_for(lambda: queue_depth(config, "sink.dlq") == 1, timeout=30, message="a dead letter")


def test_connections_killed_under_a_stream_of_events_lose_nothing(start, config, db,
                                                                  database_url):
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
                cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            " WHERE application_name = 'veteran-services:loans'"
                            " AND datname = current_database()")
                killed.append(cur.fetchone()[0])
                time.sleep(0.02)
        conn.close()

    killed, thread = [], threading.Thread(target=killer)
    thread.start()
    try:
        for event in (registered_event(willingness="business") for _ in range(300)):
            publish(config, event)
    finally:
        thread.join()
    assert sum(killed) > 10  # the fault really happened, many times over
    wait_for(lambda: scalar(db, "SELECT count(DISTINCT veteran_id)"
                                " FROM loans.eligibility_assessments") == 300,
             timeout=90, message="an assessment of every veteran")
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
        cur.execute("DROP TABLE IF EXISTS sink.notes CASCADE; DROP FUNCTION IF EXISTS sink.die();"
                    " CREATE TABLE sink.notes (note text NOT NULL)")
    yield runner
    with db.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS sink.notes CASCADE; DROP FUNCTION IF EXISTS sink.die()")


def test_an_rpc_whose_connection_is_lost_before_commit_runs_again_and_answers(notes, rpc, db):
    assert rpc.sink.write("once") == 2  # the second attempt answered the caller
    assert Notes.attempts == ["once", "once"]
    assert scalar(db, "SELECT count(*) FROM sink.notes") == 1


def test_an_rpc_whose_connection_is_lost_during_commit_is_not_run_again(notes, rpc, db):
    """Lost during COMMIT, the outcome is unknown to the service: the caller hears of it."""
    Notes.DIE_FIRST = False
    with db.cursor() as cur:
        cur.execute("""
            CREATE FUNCTION sink.die() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);
              RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON sink.notes
              DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sink.die();""")
    with pytest.raises(RemoteError) as caught:
        rpc.sink.write("maybe")
    assert caught.value.exc_type == "OperationalError"
    assert Notes.attempts == ["maybe"]
    assert scalar(db, "SELECT count(*) FROM sink.notes") == 0


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
    time.sleep(0.2)  # the server's "terminating connection" reaches the idle socket
    try:
        again = pool.get()
        with again.cursor() as cur:  # no OperationalError: a live connection
            cur.execute("SELECT pg_backend_pid()")
            assert cur.fetchone()[0] != dead_pid
        assert pool._created == 1
        pool.put(again)
    finally:
        pool.close()
