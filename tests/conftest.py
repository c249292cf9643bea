"""Fixtures shared by every test: a throw-away PostgreSQL database for the run, emptied
between tests, and nameko config pointing the services at it and at a per-test vhost."""

import os
import uuid

import psycopg2
import pytest

from shared import auth
from shared.logging import configure_logging

# At least 32 bytes, as RFC 7518 asks of an HS256 key (PyJWT warns below that).
SECRET, OLD_SECRET = "test-secret-current-0123456789abcdef", "test-secret-rotated-out-0123456789ab"
TEST_DB = os.environ.get("TEST_DATABASE", "veteran_test")
ADMIN_URL = os.environ.get(
    "TEST_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SCHEMAS = ("registry", "loans", "jobs", "training", "followup", "sink")


def _url(dbname):
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


@pytest.fixture(scope="session")
def database_url():
    conn = psycopg2.connect(ADMIN_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEST_DB,))
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{TEST_DB}"')
    conn.close()
    return _url(TEST_DB)


@pytest.fixture
def db(database_url):
    """A connection to the test database; every service table is emptied before the test."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s)"
            " AND tablename <> 'schema_migrations'",
            (list(SCHEMAS),),
        )
        tables = [f'"{s}"."{t}"' for s, t in cur.fetchall()]
        if tables:
            cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
    yield conn
    conn.close()


@pytest.fixture
def config(rabbit_config, database_url, db):
    """What a service sees in production, pointed at the test vhost and database."""
    return {
        **rabbit_config,
        "DATABASE_URL": database_url,
        "max_workers": 10,
        "DELIVERY_LIMIT": 3,
        "LOG_JSON": True,
        "AUTH_SECRETS": f"{SECRET},{OLD_SECRET}",
        # HTTP entrypoints (jobs) on a free port: never the contract's 8000 a running
        # system may hold.
        "WEB_SERVER_ADDRESS": "127.0.0.1:0",
    }


def token(role="admin", counties=("*",), operator="op-test", secret=SECRET, **kwargs):
    """A signed token for tests: ``token("county", ["652301"])``."""
    return auth.issue(secret, operator, role, counties, name=f"{role} tester", **kwargs)


@pytest.fixture
def admin_token():
    return token("admin")


@pytest.fixture(autouse=True, scope="session")
def _logs():
    configure_logging(level="INFO", json=True)


def new_id():
    return str(uuid.uuid4())
