"""Benchmark case ``search``: ``registry.search_veterans`` over a ledger of 100,000 cards,
from concurrent RPC clients with a mix of filters (admin token). Prints calls per second,
latency (p50/p90/p99 overall and per filter mix; target p50 < 20 ms), the latency of one
client alone (no queueing behind the others) and CPU per call by component.

    python bench/bench.py --case search [--clients 10]

The cards are loaded with COPY straight into ``registry.veterans`` after the service has
migrated its schema: plausible, varied data (7 counties, statuses, willingness, skills,
needs, Chinese names); the ID numbers are unique and look right but need not pass the
check character."""

import io
import os
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import eventlet
import psycopg2
import psycopg2.extensions
from nameko.standalone.rpc import ClusterRpcProxy

from bench.common import (
    Processes,
    StartLine,
    cpu_seconds_by_component,
    environment,
    percentile,
    wait_health,
)
from shared.jurisdiction import Jurisdiction
from shared.taxonomy import Taxonomy

VETERANS = 100_000
CALLS = 2_000
SOLO_CALLS = 300  # one client alone: latency without queueing behind the other nine
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩"
COUNTY_WEIGHTS = (30, 12, 14, 12, 14, 10, 8)  # 昌吉市 the largest, 木垒 the smallest
STATUSES = {
    "unemployed": 28,
    "employed": 30,
    "self_employed": 10,
    "flexible": 10,
    "public_welfare_post": 5,
    "in_training": 5,
    "further_education": 3,
    "not_seeking": 9,
}
WILLINGNESS = {"job": 45, "business": 20, "training": 15, "none": 20}
DISCHARGE_TYPES = {"self_employment": 80, "assigned_job": 12, "retired": 5, "supported": 3}


def weighted(rng, table):
    return rng.choices(list(table), weights=list(table.values()))[0]


def pg_array(values):
    return "{" + ",".join(values) + "}"


def veteran_rows(n, seed=20261128):
    """``n`` tab-separated rows for COPY, reproducible for a given seed."""
    rng = random.Random(seed)
    counties = Jurisdiction.load().codes()
    taxonomy = Taxonomy.load()
    skills, needs = sorted(taxonomy.codes("skills")), sorted(taxonomy.codes("service_needs"))
    start = datetime(2019, 1, 1, tzinfo=UTC)
    span = (datetime(2026, 11, 1, tzinfo=UTC) - start).total_seconds()
    seen = set()
    for _ in range(n):
        county = rng.choices(counties, weights=COUNTY_WEIGHTS)[0]
        birth = date(1966, 1, 1) + timedelta(days=rng.randrange(365 * 38))
        while True:
            number = f"{county}{birth:%Y%m%d}{rng.randrange(1000):03d}{rng.choice('0123456789X')}"
            if number not in seen:
                seen.add(number)
                break
        gender = "male" if int(number[16]) % 2 else "female"
        discharged = date(min(birth.year + rng.randint(20, 40), 2026), rng.randint(1, 12), 1)
        if discharged > date(2026, 10, 1):
            discharged = date(2026, 10, 1)
        enlisted = date(discharged.year - rng.randint(2, 16), 9, 1)
        given = rng.choice((1, 2, 2))  # a third of names are two characters, the rest three
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(given))
        registered = start + timedelta(seconds=rng.random() * span)
        status = weighted(rng, STATUSES)
        yield "\t".join(
            [
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                number,
                name,
                f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
                gender,
                birth.isoformat(),
                county,
                "\\N",
                rng.choice(("army", "army", "navy", "air_force", "armed_police")),
                enlisted.isoformat(),
                discharged.isoformat(),
                weighted(rng, DISCHARGE_TYPES),
                pg_array(rng.sample(skills, rng.choice((0, 1, 1, 2, 2, 3)))),
                "{}",
                '{"occupations": [], "counties": [], "min_salary": null}',
                weighted(rng, WILLINGNESS),
                status,
                pg_array(rng.sample(needs, rng.choice((0, 1, 1, 2, 3)))),
                "{}",
                registered.isoformat(),
                registered.isoformat(),
                "bench",
                "bench employer" if status == "employed" else "\\N",
            ]
        )


def load_veterans(dsn, n):
    columns = (
        "id",
        "id_number",
        "name",
        "phone",
        "gender",
        "birth_date",
        "county_code",
        "address",
        "branch",
        "enlisted_on",
        "discharged_on",
        "discharge_type",
        "skills",
        "certificates",
        "intentions",
        "willingness",
        "employment_status",
        "service_needs",
        "flags",
        "registered_at",
        "updated_at",
        "created_by",
        "employer",
    )
    began = time.perf_counter()
    buffer = io.StringIO("\n".join(veteran_rows(n)) + "\n")
    # COPY does not work with a green wait callback; the load runs before any client does.
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.copy_expert(f"COPY registry.veterans ({', '.join(columns)}) FROM STDIN", buffer)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) registry.veterans")
    finally:
        conn.close()
        psycopg2.extensions.set_wait_callback(callback)
    return time.perf_counter() - began


def filter_mixes():
    """(label, make(rng) -> (filters, page, page_size)): what county and prefecture staff
    ask for, from narrow to prefecture-wide."""
    counties = Jurisdiction.load().codes()
    taxonomy = Taxonomy.load()
    skills, needs = sorted(taxonomy.codes("skills")), sorted(taxonomy.codes("service_needs"))
    statuses, willingness = list(STATUSES), list(WILLINGNESS)

    def page(rng):
        return rng.choice((1, 1, 1, 1, 2, 3, 5, 10))

    return [
        ("county", lambda r: ({"county_code": r.choice(counties)}, page(r), 50)),
        (
            "county+status",
            lambda r: (
                {"county_code": r.choice(counties), "employment_status": r.choice(statuses)},
                page(r),
                50,
            ),
        ),
        (
            "county+willingness+need",
            lambda r: (
                {
                    "county_code": r.choice(counties),
                    "willingness": r.choice(("job", "business")),
                    "service_need": r.choice(needs),
                },
                1,
                50,
            ),
        ),
        ("skill (all counties)", lambda r: ({"skill": r.choice(skills)}, page(r), 50)),
        (
            "need+willingness",
            lambda r: (
                {"service_need": r.choice(needs), "willingness": r.choice(willingness)},
                page(r),
                50,
            ),
        ),
        (
            "county+discharge years",
            lambda r: (
                {
                    "county_code": r.choice(counties),
                    "discharged_from_year": (y := r.randint(1990, 2020)),
                    "discharged_to_year": y + r.randint(0, 5),
                },
                page(r),
                50,
            ),
        ),
        (
            "full name",
            lambda r: (
                {"name": r.choice(SURNAMES) + r.choice(GIVEN) + r.choice(("", r.choice(GIVEN)))},
                1,
                20,
            ),
        ),
        (
            "county+surname",
            lambda r: (
                {"county_code": r.choice(counties), "name": r.choice(SURNAMES)},
                page(r),
                50,
            ),
        ),
        (
            "2 counties+statuses+skill",
            lambda r: (
                {
                    "county_code": r.sample(counties, 2),
                    "employment_status": ["unemployed", "flexible"],
                    "skill": r.choice(skills),
                },
                page(r),
                50,
            ),
        ),
        ("no filter", lambda r: ({}, page(r), 50)),
    ]


def bench_search(client_config, calls, clients, seed=7):
    mixes = filter_mixes()
    rng = random.Random(seed)
    plan = [(label, *make(rng)) for label, make in (mixes[i % len(mixes)] for i in range(calls))]
    rng.shuffle(plan)
    latencies = []
    by_mix, totals = {label: [] for label, _ in mixes}, {label: [] for label, _ in mixes}
    line = StartLine(clients)

    def client(chunk):
        with ClusterRpcProxy(
            {"AMQP_URI": client_config["AMQP_URI"]},
            timeout=30,
            context_data=client_config["context_data"],
        ) as proxy:
            proxy.registry.search_veterans({}, 1, 1)  # warm up: reply queue, a DB connection
            line.wait()
            for label, filters, page, size in chunk:
                began = time.perf_counter()
                reply = proxy.registry.search_veterans(filters, page, size)
                elapsed = time.perf_counter() - began
                latencies.append(elapsed)
                by_mix[label].append(elapsed)
                totals[label].append(reply["total"])

    pool = [eventlet.spawn(client, plan[i::clients]) for i in range(clients)]
    began = line.start()
    for thread in pool:
        thread.wait()
    seconds = time.perf_counter() - began
    return {
        "calls_per_s": calls / seconds,
        "seconds": seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p90_ms": percentile(latencies, 90) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
        "mixes": {
            label: (
                len(values),
                percentile(values, 50) * 1000,
                percentile(values, 99) * 1000,
                sum(totals[label]) / len(totals[label]),
            )
            for label, values in by_mix.items()
            if values
        },
    }


def run(args):
    clients = getattr(args, "clients", 10) or 10
    print(
        f"bench: search_veterans over {VETERANS:,} cards, {CALLS} calls from {clients} "
        f"concurrent RPC clients (admin token)"
    )
    dsn, uri, env, token, logdir = environment()
    procs = Processes(env, logdir)
    try:
        procs.start(
            "registry", "services/registry/config.yaml", "services.registry.service:RegistryService"
        )
        wait_health({"AMQP_URI": uri}, ["registry"], procs)  # the schema is migrated now
        seconds = load_veterans(dsn, VETERANS)
        print(f"  loaded {VETERANS:,} cards with COPY + VACUUM ANALYZE in {seconds:.1f} s")
        client_config = {"AMQP_URI": uri, "context_data": {"auth_token": token}}
        solo = bench_search(client_config, SOLO_CALLS, 1, seed=11)
        cpu_before = cpu_seconds_by_component(procs)
        result = bench_search(client_config, CALLS, clients)
        cpu_after = cpu_seconds_by_component(procs)
    finally:
        procs.stop()
    cpu = {
        name: (cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0)) / CALLS * 1000
        for name in ("registry", "postgres", "rabbitmq", "bench client")
    }
    print(
        f"  search_veterans          : {result['calls_per_s']:8.1f} calls/s "
        f"({CALLS} calls in {result['seconds']:.1f} s)"
    )
    print(
        f"  latency p50 / p90 / p99 / max: {result['p50_ms']:.1f} / {result['p90_ms']:.1f} / "
        f"{result['p99_ms']:.1f} / {result['max_ms']:.1f} ms   (target p50 < 20)"
    )
    print(
        f"  one client alone ({SOLO_CALLS} calls), p50 / p99: {solo['p50_ms']:.1f} / "
        f"{solo['p99_ms']:.1f} ms"
    )
    print(
        f"  CPU per call with {clients} clients (ms; {os.cpu_count()} cores shared by all): "
        + ", ".join(f"{name} {ms:.2f}" for name, ms in cpu.items())
    )
    print("  filter mixes (calls, p50 ms, p99 ms, mean total matched):")
    for label, (n, p50, p99, mean_total) in result["mixes"].items():
        print(f"    {label:27s} {n:5d} {p50:7.1f} {p99:7.1f} {mean_total:9.0f}")
    return {**result, "solo": solo, "cpu_ms": cpu}
