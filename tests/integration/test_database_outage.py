"""PostgreSQL restarted, and crashed, under 10,000 registrations: a database fault is not a
poison message. Afterwards, with nobody doing anything, no dead letters anywhere and every
veteran has their card, eligibility assessment, timeline lines and jobs projection once.

The database is a PostgreSQL cluster of this module's own (``pg_createcluster``, dropped at
the end): the machine's cluster is never restarted or killed."""

import contextlib
import itertools
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import eventlet
import psycopg2
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.jobs.service import JobsService
from services.loans.service import LoansService
from services.registry.service import RegistryService
from services.training.service import TrainingService
from tests.conftest import token
from tests.factories import make_veteran, unique_id_numbers
from tests.helpers import queue_depth, wait_for

pytestmark = pytest.mark.database_outage

VERSION = "15"
CLUSTER = "vetpgfault"  # never "main": that is the machine's own
DATABASE = "veteran_outage"
SERVICES = (RegistryService, LoansService, JobsService, TrainingService)
REGISTRATIONS, BATCH = 10_000, 1_000
SENDERS = 2  # callers registering at once, so a batch is in flight when the fault comes
# Faults, retries and recoveries as the services log them, counted for the report.
WATCHED = (
    "handler.transient_retry",
    "rpc.transient_retry",
    "relay.retrying",
    "db.rollback_failed",
    "db.commit_failed",
    "rpc.reply_failed",
)


def _pg(*args, check=True):
    return subprocess.run(list(args), check=check, timeout=120, capture_output=True, text=True)


def _ctl(action, *args, check=True):
    return _pg(
        "pg_ctlcluster", "--skip-systemctl-redirect", VERSION, CLUSTER, action, *args, check=check
    )


CONF_DIR = Path(f"/etc/postgresql/{VERSION}/{CLUSTER}")


def _drop():
    """Stop and drop this module's cluster, if there is one (also one left by a run that
    crashed); pg_dropcluster keeps a config directory holding a file it did not make."""
    if CONF_DIR.exists() or Path(f"/var/lib/postgresql/{VERSION}/{CLUSTER}").exists():
        _pg("pg_dropcluster", "--stop", VERSION, CLUSTER, check=False)
    shutil.rmtree(CONF_DIR, ignore_errors=True)


def _free_port(first=5447):
    for port in range(first, first + 50):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port for a test PostgreSQL cluster")


class Cluster:
    def __init__(self, port):
        self.port = port
        self.data = Path(f"/var/lib/postgresql/{VERSION}/{CLUSTER}")
        self.admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self.url = f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}"

    def start(self, timeout=60):
        """Start it; after a crash the old backends may still hold its shared memory for a
        moment (PostgreSQL then refuses to start), so try again until it starts."""
        try:
            wait_for(
                lambda: _ctl("start", check=False).returncode == 0,
                timeout=timeout,
                interval=0.5,
                message=f"cluster {CLUSTER} to start",
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {_ctl('status', check=False).stdout}") from None
        wait_for(self.accepting, timeout=timeout, interval=0.2, message="PostgreSQL up")

    def accepting(self):
        try:
            psycopg2.connect(self.admin_url, connect_timeout=2).close()
            return True
        except psycopg2.OperationalError:
            return False

    def restart(self):
        _ctl("restart", "-m", "fast")

    def crash(self, down_for=2.0):
        """``kill -9`` of the postmaster, then a start ``down_for`` seconds later."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        time.sleep(down_for)  # the outage itself: the scenario's length, not a wait
        self.start()


@pytest.fixture(scope="module")
def cluster():
    if shutil.which("pg_createcluster") is None:
        pytest.skip("needs Debian's postgresql-common (pg_createcluster)")
    _drop()
    port = _free_port()
    _pg("pg_createcluster", VERSION, CLUSTER, "-p", str(port), "--", "--auth=trust")
    try:
        conf = CONF_DIR / "conf.d" / "outage-test.conf"
        # fsync only guards against the machine crashing, which no test here does; a
        # killed postmaster loses nothing the kernel already has.
        conf.write_text("listen_addresses = '127.0.0.1'\nfsync = off\nmax_connections = 200\n")
        cluster = Cluster(port)
        cluster.start()
        conn = psycopg2.connect(cluster.admin_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{DATABASE}"')
        conn.close()
        yield cluster
    finally:
        _drop()


@pytest.fixture(scope="module")
def database_url(cluster):
    """The suite's ``database_url``, on this module's cluster: ``db`` and ``config`` (so
    every service, and its migrations at start) use it."""
    return cluster.url


class LogCounter(logging.Handler):
    def __init__(self):
        super().__init__()
        self.counts = Counter()

    def emit(self, record):
        event = record.msg.get("event") if isinstance(record.msg, dict) else record.msg
        if event in WATCHED:
            self.counts[event] += 1


@pytest.fixture
def logged():
    counter = LogCounter()
    logging.getLogger().addHandler(counter)
    yield counter.counts
    logging.getLogger().removeHandler(counter)


NAMES = (
    "".join(n)
    for n in itertools.cycle(
        itertools.product(
            "王李刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑", "伟强磊军勇杰涛明超刚", "平安华东建国林峰宇"
        )
    )
)


def registrations(count):
    numbers = unique_id_numbers(count)
    return [
        make_veteran(
            id_number=number,
            name=next(NAMES),
            phone=f"137{i:08d}",
            willingness=("job", "business")[i % 2],
        )
        for i, number in enumerate(numbers)
    ]


def register_all(config, batches, done, failures):
    """Each sender takes the next batch until none is left; a batch that fails is counted,
    not sent again (the services must absorb the fault, not the caller)."""
    with ClusterRpcProxy(config, timeout=60, context_data={"auth_token": token()}) as proxy:
        while batches:
            batch = batches.pop()
            try:
                results = proxy.registry.register_veterans(batch)["results"]
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            done.append(Counter(r["status"] for r in results))


def fresh(url):
    """A new connection (the fault broke any older one), autocommit."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def count(url, sql):
    try:
        with contextlib.closing(fresh(url)) as conn, conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()
    except psycopg2.OperationalError:
        return None


def registering(monitor):
    """A batch of registrations is in its transaction on the database right now."""
    with monitor.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = 'veteran-services:registry'"
            " AND state IN ('active', 'idle in transaction')"
            " AND query NOT LIKE '%%inbox%%'"
        )
        return cur.fetchone()[0] > 0


def everything_landed(url, created):
    """What the registrations made has been taken by every consumer, and their events
    published (whatever is missing is found by the assertions after)."""
    row = count(
        url,
        f"""
        SELECT (SELECT count(*) FROM loans.inbox) >= {created}
           AND (SELECT count(*) FROM jobs.inbox) >= {created}
           AND (SELECT count(*) FROM training.inbox) >= {created}
           AND (SELECT count(*) FROM registry.outbox WHERE published_at IS NULL) = 0
           AND (SELECT count(*) FROM loans.outbox WHERE published_at IS NULL) = 0
           AND (SELECT count(*) FROM registry.timeline
                WHERE type = 'loan_eligibility_assessed')
               >= (SELECT count(*) FROM loans.outbox WHERE routing_key
                   = 'loan_eligibility_assessed')""",
    )
    return row is not None and row[0]


def run_through(fault, start, config, cluster, logged, db):
    start(*SERVICES)
    rows = registrations(REGISTRATIONS)
    batches = [rows[i : i + BATCH] for i in range(0, REGISTRATIONS, BATCH)]
    done, failures = [], []
    began = time.monotonic()
    senders = [
        eventlet.spawn(register_all, config, batches, done, failures) for _ in range(SENDERS)
    ]
    # The fault comes with a third of the registrations answered: batches in flight, the
    # relays publishing, every consumer busy.
    wait_for(
        lambda: len(done) + len(failures) >= 3,
        timeout=120,
        interval=0.1,
        message="the first batches",
    )
    with contextlib.closing(fresh(cluster.url)) as monitor:
        wait_for(
            lambda: registering(monitor),
            timeout=30,
            interval=0.005,
            message="a registration inside its transaction",
        )
    fault_at = time.monotonic() - began
    fault()
    for sender in senders:
        sender.wait()
    registered_at = time.monotonic() - began
    created = sum(c["created"] for c in done)
    try:
        wait_for(
            lambda: everything_landed(cluster.url, created),
            timeout=180,
            interval=1,
            message="every registration's effects after the fault",
        )
    finally:  # the figures, also of a run that fails
        figures = {
            "fault_at_s": round(fault_at, 1),
            "registered_s": round(registered_at, 1),
            "landed_s": round(time.monotonic() - began, 1),
            "created": created,
            "rpc_failures": len(failures),
            "dead_letters": dead_letters(config),
            **logged,
        }
        print(f"\n{fault.__name__}: {figures}")
    assert logged["relay.retrying"] >= 1  # the fault was felt: every relay lost its connection
    return done, failures


def dead_letters(config):
    return {service.name: queue_depth(config, f"{service.name}.dlq") for service in SERVICES}


def assert_each_registration_landed_once(cluster, config, done, failures):
    assert failures == []
    assert sum(c["created"] for c in done) == REGISTRATIONS
    assert dead_letters(config) == {service.name: 0 for service in SERVICES}
    with contextlib.closing(fresh(cluster.url)) as conn, conn.cursor() as cur:

        def one(sql):
            cur.execute(sql)
            return cur.fetchone()

        # (total, distinct): exactly once is both equal to the registrations made.
        assert one("SELECT count(*), count(DISTINCT id_number) FROM registry.veterans") == (
            REGISTRATIONS,
            REGISTRATIONS,
        )
        assert one(
            "SELECT count(*), count(DISTINCT body->'data'->>'veteran_id')"
            " FROM registry.outbox WHERE routing_key = 'veteran_registered'"
        ) == (REGISTRATIONS, REGISTRATIONS)
        assert one(
            "SELECT count(*), count(DISTINCT veteran_id) FROM registry.timeline"
            " WHERE type = 'veteran_registered'"
        ) == (REGISTRATIONS, REGISTRATIONS)
        products = one("SELECT count(DISTINCT product_code) FROM loans.eligibility_assessments")[0]
        assert products >= 1
        assert one(
            "SELECT count(*), count(DISTINCT (veteran_id, product_code)),"
            " count(DISTINCT veteran_id) FROM loans.eligibility_assessments"
        ) == (REGISTRATIONS * products, REGISTRATIONS * products, REGISTRATIONS)
        # Each first assessment is news: one loans event, one timeline line, per product.
        assert one(
            "SELECT count(*), count(DISTINCT (body->'data'->>'veteran_id',"
            " body->'data'->>'product_code')) FROM loans.outbox"
            " WHERE routing_key = 'loan_eligibility_assessed'"
        ) == (REGISTRATIONS * products, REGISTRATIONS * products)
        assert one(
            "SELECT count(*), count(DISTINCT event_id), count(DISTINCT veteran_id)"
            " FROM registry.timeline WHERE type = 'loan_eligibility_assessed'"
        ) == (REGISTRATIONS * products, REGISTRATIONS * products, REGISTRATIONS)
        assert one("SELECT count(*), count(DISTINCT veteran_id) FROM jobs.veterans") == (
            REGISTRATIONS,
            REGISTRATIONS,
        )
        assert one("SELECT count(*), count(DISTINCT veteran_id) FROM training.veterans") == (
            REGISTRATIONS,
            REGISTRATIONS,
        )
        # Every service's inbox took each event once; what it skipped were redeliveries.
        for schema in ("loans", "jobs", "training"):
            assert one(f"SELECT count(*), count(DISTINCT event_id) FROM {schema}.inbox") == (
                REGISTRATIONS,
                REGISTRATIONS,
            )


def test_registrations_through_a_postgresql_restart_all_land_once(
    start, config, cluster, logged, db
):
    done, failures = run_through(cluster.restart, start, config, cluster, logged, db)
    assert_each_registration_landed_once(cluster, config, done, failures)


def test_registrations_through_a_postgresql_crash_all_land_once(start, config, cluster, logged, db):
    done, failures = run_through(cluster.crash, start, config, cluster, logged, db)
    assert_each_registration_landed_once(cluster, config, done, failures)
