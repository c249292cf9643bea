"""A database fault is not a poison message: a handler that fails because the database
went away is run again after a backoff without using up the delivery limit (3 in the test
config), while a handler that fails on the message itself still reaches the dead letters.
An idle pooled connection the server hung up on is never handed out."""
import threading
import time

import psycopg2
import pytest

from shared.db import ConnectionPool, Database, Store
from shared.messaging import batch_event_handler, event_handler
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
