"""Benchmark case ``scheduler``: 100,000 scheduled revisits come due at once (loaded with
COPY into ``followup.revisits``, in one commit, after the service has migrated) while two
followup processes run their schedulers. Prints revisits made due and announced (status
``due`` plus a ``revisit_due`` outbox row, one transaction per batch) per second, target at
least 2,000/s; checks that none was processed twice or missed, both in the outbox and in a
queue bound to ``revisit_due`` that counts what the relay delivered to the broker.
Baselines in the same run: one instance alone on the same rows, and one bare SQL
``UPDATE … RETURNING`` of the same rows with no claim, lease or event (the database's floor).

    python bench/bench.py --case scheduler

It uses a database and a vhost of its own (``veteran_bench_scheduler``), so it can run
while another case uses ``veteran_bench``; its service logs go to bench/out/scheduler/."""

import io
import time
import uuid

import psycopg2
import psycopg2.extensions
from kombu import Connection, Exchange, Queue

from bench.common import ROOT, Processes, count, cpu_seconds_by_component, wait_health
from bench.common import environment as common_environment
from shared.clock import bureau_clock

REVISITS = 100_000
TARGET_PER_S = 2_000
NAME = "veteran_bench_scheduler"  # database and vhost
SETTINGS = {"SCHEDULER_INTERVAL": "0.5", "SCHEDULER_BATCH": "1000", "SCHEDULER_LEASE_SECONDS": "60"}
COUNTIES = ("652301", "652302", "652323", "652324", "652325", "652327", "652328")
WATCH_QUEUE = "bench.revisit_due"


def environment():
    dsn, uri, env, _, logdir = common_environment(NAME)
    return dsn, uri, {**env, **SETTINGS}, logdir


# -- the work -------------------------------------------------------------------------------
def watch_queue(uri, purge=False):
    """A durable queue bound to followup's revisit_due, as an operators' worklist consumer
    would bind one; its depth counts the events the relay delivered."""
    with Connection(uri) as conn:
        queue = Queue(
            WATCH_QUEUE,
            Exchange("followup.events", type="topic", durable=True),
            routing_key="revisit_due",
            durable=True,
        )
        bound = queue(conn.default_channel)
        bound.declare()
        if purge:
            bound.purge()


def queue_depth(uri):
    with Connection(uri) as conn:
        return conn.default_channel.queue_declare(WATCH_QUEUE, passive=True).message_count


def load(dsn, n):
    """n revisits due today, in one COPY and one commit. → the moment they are all due."""
    clock = bureau_clock()
    today, now = clock.today(), clock.now().isoformat()
    lines = "".join(
        f"{uuid.uuid4()}\t{uuid.uuid4()}\t{COUNTIES[i % len(COUNTIES)]}\t"
        f"employment\t{uuid.uuid4()}\tveteran_hired\t{today}\t{now}\n"
        for i in range(n)
    )
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)  # COPY does not work with a green callback
    try:
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.copy_expert(
                "COPY followup.revisits (id, veteran_id, county_code, kind,"
                " cause_event_id, cause_type, due_on, created_at) FROM STDIN",
                io.StringIO(lines),
            )
        return time.perf_counter()  # committed: every row is due from here
    finally:
        psycopg2.extensions.set_wait_callback(callback)


def wait_until(what, check, began, limit=600):
    while not check():
        if time.perf_counter() - began > limit:
            raise SystemExit(f"bench: {what} did not happen within {limit} s")
        time.sleep(0.05)
    return time.perf_counter()


def measure(dsn, uri, env, logdir, instances):
    """Start ``instances`` followup processes, load the revisits, time them due and
    published. The database and queue are emptied first."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('followup.revisits') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute("TRUNCATE followup.revisits, followup.outbox CASCADE")
    procs = Processes(env, logdir)
    try:
        for i in range(instances):
            procs.start(
                f"followup-{instances}x-{i}",
                str(ROOT / "services/followup/config.yaml"),
                "services.followup.service:FollowupService",
            )
        wait_health({"AMQP_URI": uri}, ["followup"], procs)
        watch_queue(uri, purge=True)
        cpu_before = cpu_seconds_by_component(procs)
        began = load(dsn, REVISITS)
        due = wait_until(
            "every revisit due",
            lambda: (
                count(dsn, "SELECT count(*) FROM followup.revisits WHERE status = 'due'")
                >= REVISITS
            ),
            began,
        )
        cpu_due = cpu_seconds_by_component(procs)
        published = wait_until(
            "every revisit_due event published",
            lambda: (
                count(dsn, "SELECT count(*) FROM followup.outbox WHERE published_at IS NULL") == 0
            ),
            began,
        )
        procs.check_alive()
    finally:
        procs.stop()
    announced = count(dsn, "SELECT count(*) FROM followup.outbox WHERE routing_key = 'revisit_due'")
    distinct = count(
        dsn,
        "SELECT count(DISTINCT body->'data'->>'revisit_id') FROM followup.outbox"
        " WHERE routing_key = 'revisit_due'",
    )
    missing = count(
        dsn,
        "SELECT count(*) FROM followup.revisits r WHERE NOT EXISTS ("
        " SELECT 1 FROM followup.outbox o WHERE o.routing_key = 'revisit_due'"
        " AND o.body->'data'->>'revisit_id' = r.id::text)",
    )
    cpu = {
        name: (cpu_due.get(name, 0.0) - cpu_before.get(name, 0.0)) / REVISITS * 1000
        for name in cpu_due
    }
    return {
        "per_s": REVISITS / (due - began),
        "seconds": due - began,
        "published_per_s": REVISITS / (published - began),
        "announced": announced,
        "distinct": distinct,
        "missing": missing,
        "delivered": queue_depth(uri),
        "cpu_ms": cpu,
    }


def floor(dsn):
    """The same rows back to scheduled, then one bare UPDATE … RETURNING of all of them."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("UPDATE followup.revisits SET status = 'scheduled', due_at = NULL")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        began = time.perf_counter()
        cur.execute(
            "UPDATE followup.revisits SET status = 'due', due_at = now()"
            " WHERE status = 'scheduled' AND due_on <= %s RETURNING id",
            (bureau_clock().today(),),
        )
        rows = len(cur.fetchall())
    return rows / (time.perf_counter() - began)


def verdict(got):
    clean = got["announced"] == got["distinct"] == REVISITS and got["missing"] == 0
    return "none twice, none missing" if clean else "DUPLICATES OR GAPS"


def run(args):
    print(
        f"bench: {REVISITS:,} revisits come due at once; followup's schedulers tick every "
        f"{SETTINGS['SCHEDULER_INTERVAL']} s when idle, {int(SETTINGS['SCHEDULER_BATCH']):,} "
        "a claim, back to back while there is a backlog"
    )
    dsn, uri, env, logdir = environment()
    two = measure(dsn, uri, env, logdir, instances=2)
    one = measure(dsn, uri, env, logdir, instances=1)
    bare = floor(dsn)
    print(
        f"  two instances: made due and announced : {two['per_s']:8.1f} /s   "
        f"(target >= {TARGET_PER_S:,}; {two['seconds']:.1f} s)"
    )
    print(f"                 published by the relay : {two['published_per_s']:8.1f} /s")
    print(
        f"                 revisit_due: {two['announced']:,} outbox rows for "
        f"{two['distinct']:,} revisits, {two['missing']} missing, {two['delivered']:,} "
        f"delivered to a bound queue ({verdict(two)})"
    )
    print(
        "                 CPU per revisit (ms): "
        + ", ".join(f"{k} {v:.3f}" for k, v in sorted(two["cpu_ms"].items()))
    )
    print(
        f"  one instance : made due and announced : {one['per_s']:8.1f} /s   "
        f"({one['seconds']:.1f} s; {verdict(one)})"
    )
    print(
        f"  baseline: one bare UPDATE … RETURNING of the same rows, no claim or event: "
        f"{bare:8.1f} /s"
    )
    return {"two": two, "one": one, "floor_per_s": bare}
