"""registry within bounds under load: no statement outlives the service's statement_timeout
(the caller gets ``StatementTimeout`` and the service goes on), and batches whose rows
share one phone cost what batches with unique phones cost while ``health()`` answers."""
import time

import psycopg2
import pytest
from nameko.testing.utils import get_container, get_extension

from services.registry.service import RegistryService
from shared.db import DEFAULT_STATEMENT_TIMEOUT_MS, Database
from shared.errors import StatementTimeout
from tests.factories import make_veteran
from tests.helpers import scalar

REGISTRY_CONNECTIONS = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                        " AND application_name = 'veteran-services:registry'")


def pool_of(runner):
    return get_extension(get_container(runner, RegistryService), Database).pool


def test_every_pooled_connection_carries_the_statement_timeout(start):
    pool = pool_of(start(RegistryService))
    conn = pool.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW statement_timeout")
            assert cur.fetchone()[0] == f"{DEFAULT_STATEMENT_TIMEOUT_MS // 1000}s"
    finally:
        conn.close()
    assert pool_of(start(RegistryService, STATEMENT_TIMEOUT_MS=2500)).statement_timeout_ms == 2500


def test_a_statement_past_the_timeout_is_an_error_and_the_service_goes_on(start, rpc, db,
                                                                          database_url):
    # One pooled connection: the call after the cancelled one must get it back, usable.
    start(RegistryService, STATEMENT_TIMEOUT_MS=300, DB_POOL_SIZE=1)
    assert rpc.registry.health()["status"] == "ok"
    [(pid,)] = rows(db, REGISTRY_CONNECTIONS)
    veteran = make_veteran()
    blocker = psycopg2.connect(database_url)
    try:
        with blocker.cursor() as cur:  # the card goes in, its audit row waits for this lock
            cur.execute("LOCK TABLE registry.audit_log IN EXCLUSIVE MODE")
        began = time.monotonic()
        with pytest.raises(StatementTimeout) as caught:
            rpc.registry.register_veteran(veteran)
        waited = time.monotonic() - began
    finally:
        blocker.rollback()
        blocker.close()

    assert caught.value.details == {"statement_timeout_ms": "300"}
    assert "statement_timeout" in caught.value.message
    assert waited < 5, f"the caller waited {waited:.1f} s"
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 0  # rolled back
    card = rpc.registry.register_veteran(veteran)  # the same ID number: no Conflict
    assert rpc.registry.get_veteran(card["id"])["county_code"] == veteran["county_code"]
    assert rows(db, REGISTRY_CONNECTIONS) == [(pid,)]  # the same connection, still serving


def rows(db, sql, *args):
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()
