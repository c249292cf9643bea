"""``shared.db.Session`` at a COMMIT whose connection is lost, on fake connections: what it
asks the database, and what it reports (success, a failure safe to run again, or an
outcome unknown). The real thing: tests/integration/test_transient_faults.py."""

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest

from shared import db
from shared.db import Session

INTRANS = psycopg2.extensions.TRANSACTION_STATUS_INTRANS
IDLE = psycopg2.extensions.TRANSACTION_STATUS_IDLE


class FakeCursor:
    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, args=None):
        self.conn.statements.append(sql)
        answer = self.conn.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        self.row = (answer,)

    def fetchone(self):
        return self.row


class FakeInfo:
    def __init__(self, status):
        self.transaction_status = status


class FakeConn:
    """``answers``: what each statement returns (or raises), in order."""

    def __init__(self, status=INTRANS, answers=(), commit_error=None):
        self.info = FakeInfo(status)
        self.answers, self.statements = list(answers), []
        self.commit_error, self.closed, self.autocommit = commit_error, 0, False

    def cursor(self, **kwargs):
        return FakeCursor(self)

    def commit(self):
        self.statements.append("COMMIT")
        if self.commit_error is not None:
            self.closed = 2  # psycopg2's mark of a connection that broke
            raise self.commit_error

    def rollback(self):
        pass

    def close(self):
        self.closed = 1


class FakePool:
    """Hands out ``conn`` to the worker; ``later`` are the connections (or errors) the
    session gets when it asks what became of its transaction."""

    statement_timeout_ms = 15_000

    def __init__(self, conn, later=()):
        self.conn, self.later, self.asked = conn, list(later), []

    def get(self):
        return self.conn

    def put(self, conn, broken=False):
        pass

    def connect(self, **kwargs):
        self.asked.append(kwargs)
        item = self.later.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def lost():
    return psycopg2.OperationalError("server closed the connection unexpectedly")


def status_conn(*answers):
    return FakeConn(status=IDLE, answers=answers)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(db.eventlet, "sleep", lambda seconds: None)


def finish(conn, pool, resolve_seconds=5.0):
    session = Session(pool, None, resolve_seconds=resolve_seconds)
    session.cursor()  # the worker's first statement takes the connection
    return session.finish(None)


def test_a_lost_commit_the_database_says_committed_is_the_workers_success():
    conn = FakeConn(answers=["1234"], commit_error=lost())
    pool = FakePool(conn, later=[status_conn("committed")])
    assert finish(conn, pool) is None
    assert conn.statements == ["SELECT pg_current_xact_id_if_assigned()::text", "COMMIT"]
    assert pool.asked == [{"connect_timeout": db.RESOLVE_CONNECT_TIMEOUT}]


def test_a_lost_commit_the_database_says_aborted_is_a_failure_safe_to_run_again():
    conn = FakeConn(answers=["1234"], commit_error=lost())
    exc_info = finish(conn, FakePool(conn, later=[status_conn("aborted")]))
    assert isinstance(exc_info[1], psycopg2.OperationalError)
    assert exc_info[1].outcome_unknown is False


def test_the_session_asks_again_while_the_server_is_down_or_still_committing():
    conn = FakeConn(answers=["1234"], commit_error=lost())
    asking = status_conn("in progress")
    pool = FakePool(conn, later=[lost(), lost(), asking, status_conn("committed")])
    assert finish(conn, pool) is None
    assert len(pool.asked) == 4
    assert asking.statements == ["SELECT pg_xact_status(%s::xid8)"]


def test_no_answer_in_time_leaves_the_outcome_unknown(monkeypatch):
    clock = iter(range(0, 1000, 2))  # every look at the clock two seconds later
    monkeypatch.setattr(db.time, "monotonic", lambda: next(clock))
    conn = FakeConn(answers=["1234"], commit_error=lost())
    pool = FakePool(conn, later=[lost()] * 10)
    exc_info = finish(conn, pool, resolve_seconds=5.0)
    assert exc_info[1].outcome_unknown is True
    assert 1 <= len(pool.asked) <= 3


def test_an_id_the_database_has_not_reached_leaves_the_outcome_unknown():
    """A replica promoted without the transaction: the id may later be another's."""
    conn = FakeConn(answers=["1234"], commit_error=lost())
    future = psycopg2.errors.InvalidParameterValue("transaction ID 1234 is in the future")
    pool = FakePool(conn, later=[status_conn(future)])
    assert finish(conn, pool)[1].outcome_unknown is True


def test_a_transaction_that_wrote_nothing_has_nothing_to_resolve():
    conn = FakeConn(answers=[None], commit_error=lost())
    pool = FakePool(conn)
    exc_info = finish(conn, pool)
    assert exc_info[1].outcome_unknown is False
    assert pool.asked == []


def test_a_connection_lost_before_the_commit_was_sent_committed_nothing():
    conn = FakeConn(answers=[lost()])
    pool = FakePool(conn)
    exc_info = finish(conn, pool)
    assert conn.statements == ["SELECT pg_current_xact_id_if_assigned()::text"]  # no COMMIT
    assert exc_info[1].outcome_unknown is False
    assert pool.asked == []


def test_a_session_that_does_not_resolve_commits_without_the_lookup_and_reports_unknown():
    conn = FakeConn(commit_error=lost())
    pool = FakePool(conn)
    exc_info = finish(conn, pool, resolve_seconds=None)
    assert conn.statements == ["COMMIT"]
    assert exc_info[1].outcome_unknown is True
    assert pool.asked == []


def test_an_error_the_server_answered_at_commit_rolled_back():
    """A deferred constraint failing at COMMIT: the server said no, on a live connection."""

    class Refused(psycopg2.errors.ForeignKeyViolation):
        pgcode = "23503"  # as the server sends it (one made here has none)

    refused = Refused("violates foreign key constraint")
    conn = FakeConn(answers=["1234"])
    conn.commit = lambda: (_ for _ in ()).throw(refused)  # the connection stays open
    pool = FakePool(conn)
    exc_info = finish(conn, pool)
    assert exc_info[1] is refused
    assert exc_info[1].outcome_unknown is False
    assert pool.asked == []
