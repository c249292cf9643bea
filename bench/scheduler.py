"""Benchmark case ``scheduler``: 100,000 scheduled revisits come due at once (loaded with
COPY in one transaction while two followup processes run their schedulers); prints
revisits made due (and announced through the outbox) per second, target at least 2,000/s,
and checks that none was processed twice. Baseline in the same run: one SQL statement
marking the same rows due, with no claim, lease or event (the database's floor).

    python bench/bench.py --case scheduler"""
import io
import time
import uuid
from datetime import datetime, timezone

import psycopg2
import psycopg2.extensions

from bench.common import (ROOT, Processes, count, cpu_seconds_by_component, environment,
                          wait_health)
from shared.clock import SystemClock

REVISITS = 100_000
TARGET_PER_S = 2_000
INSTANCES = 2


def load(dsn, n):
    today, now = SystemClock().today(), datetime.now(timezone.utc).isoformat()
    lines = "".join(f"{uuid.uuid4()}\t{uuid.uuid4()}\t652301\temployment\t{uuid.uuid4()}\t"
                    f"veteran_hired\t{today}\t{now}\n" for _ in range(n))
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)  # COPY does not work with a green callback
    try:
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.copy_expert("COPY followup.revisits (id, veteran_id, county_code, kind,"
                            " cause_event_id, cause_type, due_on, created_at) FROM STDIN",
                            io.StringIO(lines))
        return time.perf_counter()  # committed: every row is due from here
    finally:
        psycopg2.extensions.set_wait_callback(callback)


def wait_all_due(dsn, n, began, limit=600):
    while count(dsn, "SELECT count(*) FROM followup.revisits WHERE status = 'due'") < n:
        if time.perf_counter() - began > limit:
            raise SystemExit(f"bench: not every revisit became due within {limit} s")
        time.sleep(0.05)
    return time.perf_counter()


def baseline(dsn):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("UPDATE followup.revisits SET status = 'scheduled', due_at = NULL")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        began = time.perf_counter()
        cur.execute("UPDATE followup.revisits SET status = 'due', due_at = now()"
                    " WHERE status = 'scheduled' RETURNING id")
        rows = len(cur.fetchall())
    return rows / (time.perf_counter() - began)


def run(args):
    print(f"bench: {REVISITS:,} revisits come due at once, {INSTANCES} followup processes "
          "running their schedulers (tick 0.2 s, 1,000 a claim)")
    dsn, uri, env, token, logdir = environment()
    env = {**env, "SCHEDULER_INTERVAL": "0.2", "SCHEDULER_BATCH": "1000"}
    procs = Processes(env, logdir)
    try:
        for i in range(INSTANCES):
            procs.start(f"followup-{i}", str(ROOT / "services/followup/config.yaml"),
                        "services.followup.service:FollowupService")
        wait_health({"AMQP_URI": uri}, ["followup"], procs)
        cpu_before = cpu_seconds_by_component(procs)
        began = load(dsn, REVISITS)
        done = wait_all_due(dsn, REVISITS, began)
        cpu_after = cpu_seconds_by_component(procs)
        announced = count(dsn, "SELECT count(*) FROM followup.outbox"
                               " WHERE routing_key = 'revisit_due'")
        distinct = count(dsn, "SELECT count(DISTINCT body->'data'->>'revisit_id')"
                              " FROM followup.outbox WHERE routing_key = 'revisit_due'")
    finally:
        procs.stop()
    floor = baseline(dsn)
    rate = REVISITS / (done - began)
    cpu = {name: (cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0)) / REVISITS * 1000
           for name in cpu_after}
    print(f"  revisits made due and announced : {rate:8.1f} /s   (target >= {TARGET_PER_S:,}; "
          f"{done - began:.1f} s)")
    print(f"  revisit_due events: {announced:,} for {distinct:,} revisits "
          f"({'none twice' if announced == distinct == REVISITS else 'DUPLICATES OR GAPS'})")
    print(f"  baseline: one UPDATE of the same rows, no claim or event: {floor:8.1f} /s")
    print("  CPU per revisit (ms): " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(cpu.items())))
    return {"per_s": rate, "announced": announced, "distinct": distinct, "floor_per_s": floor}
