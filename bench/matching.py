"""Benchmark case ``matching``: ``jobs.match_jobs`` with 50,000 open postings and 20,000
veterans stored (target p50 < 30 ms, p99 < 100 ms), ``jobs.match_candidates`` beside it,
and ``health()`` over the same RPC path as the baseline (what any call costs before it does
work), all in one run from one client.

    python bench/bench.py --case matching

Postings and veterans are loaded with COPY straight into jobs' tables after the service
has migrated its schema: 1,000 employers, postings spread over the 7 counties, the
taxonomy's occupations and skills, salary ranges and dates; veterans with 0–3 skills,
0–2 wanted occupations and counties, a salary floor for most."""

import io
import random
import time
import uuid
from datetime import timedelta

import psycopg2
import psycopg2.extensions
from nameko.standalone.rpc import ClusterRpcProxy

from bench.common import (
    ROOT,
    Processes,
    cpu_seconds_by_component,
    environment,
    percentile,
    wait_health,
)
from bench.search import COUNTY_WEIGHTS, pg_array, weighted
from shared.clock import bureau_clock
from shared.jurisdiction import Jurisdiction
from shared.taxonomy import Taxonomy

POSTINGS, VETERANS, EMPLOYERS = 50_000, 20_000, 1_000
MATCH_CALLS, CANDIDATE_CALLS, BASELINE_CALLS = 1_000, 300, 500
STATUSES = {"unemployed": 50, "flexible": 15, "in_training": 5, "employed": 25, "not_seeking": 5}
WEB_PORT = "127.0.0.1:18017"  # not the contract's 8000: a running `make run` may hold it


def rows(seed=20261128):
    rng = random.Random(seed)
    counties = Jurisdiction.load().codes()
    taxonomy = Taxonomy.load()
    skills, occupations = sorted(taxonomy.codes("skills")), sorted(taxonomy.codes("occupations"))
    industries = sorted(taxonomy.codes("industries"))
    today = bureau_clock().today()

    def county():
        return rng.choices(counties, weights=COUNTY_WEIGHTS)[0]

    employers = [
        (str(uuid.UUID(int=rng.getrandbits(128), version=4)), county()) for _ in range(EMPLOYERS)
    ]
    employer_rows = [
        f"{eid}\t雇主{i}\t{place}\t{rng.choice(industries)}\tf\t{today}\tbench"
        for i, (eid, place) in enumerate(employers)
    ]
    posting_rows = []
    for i in range(POSTINGS):
        employer_id, place = rng.choice(employers)
        low = rng.randrange(2000, 8001, 500)
        posting_rows.append(
            "\t".join(
                [
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    employer_id,
                    f"岗位{i}",
                    rng.choice(occupations),
                    pg_array(rng.sample(skills, rng.choice((0, 1, 1, 2, 2, 3)))),
                    pg_array(["B2驾驶证"] if rng.random() < 0.1 else []),
                    place,
                    str(low),
                    str(low + rng.randrange(500, 4001, 500)),
                    str(rng.randint(1, 10)),
                    (today + timedelta(days=rng.randint(1, 120))).isoformat(),
                    "t" if rng.random() < 0.3 else "f",
                    "local",
                    today.isoformat(),
                    today.isoformat(),
                    "bench",
                ]
            )
        )
    veteran_rows, veteran_ids = [], []
    for _ in range(VETERANS):
        veteran_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        veteran_ids.append(veteran_id)
        floor = "\\N" if rng.random() < 0.2 else str(rng.randrange(2000, 9001, 500))
        veteran_rows.append(
            "\t".join(
                [
                    veteran_id,
                    county(),
                    pg_array(rng.sample(skills, rng.choice((0, 1, 1, 2, 2, 3)))),
                    pg_array(["B2驾驶证"] if rng.random() < 0.1 else []),
                    pg_array(rng.sample(occupations, rng.choice((0, 1, 1, 2)))),
                    pg_array(rng.sample(counties, rng.choice((0, 0, 1, 2)))),
                    floor,
                    rng.choices(("job", "business", "training", "none"), weights=(70, 10, 10, 10))[
                        0
                    ],
                    weighted(rng, STATUSES),
                    today.isoformat(),
                ]
            )
        )
    return employer_rows, posting_rows, veteran_rows, veteran_ids


def load(dsn):
    employers, postings, veterans, veteran_ids = rows()
    tables = [
        (
            "jobs.employers",
            "id, name, county_code, industry, federation_member, created_at, created_by",
            employers,
        ),
        (
            "jobs.postings",
            "id, employer_id, title, occupation, skills_required,"
            " certificates_preferred, county_code, salary_min, salary_max,"
            " openings, closes_on, dedicated, source, created_at, updated_at,"
            " created_by",
            postings,
        ),
        (
            "jobs.veterans",
            "veteran_id, county_code, skills, certificates, occupations, counties,"
            " min_salary, willingness, employment_status, updated_at",
            veterans,
        ),
    ]
    began = time.perf_counter()
    # COPY does not work with a green wait callback; the load runs before any client does.
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            for table, columns, lines in tables:
                cur.copy_expert(
                    f"COPY {table} ({columns}) FROM STDIN", io.StringIO("\n".join(lines) + "\n")
                )
            cur.execute("SELECT id FROM jobs.postings")
            posting_ids = [str(row[0]) for row in cur.fetchall()]
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) jobs.employers, jobs.postings, jobs.veterans")
    finally:
        conn.close()
        psycopg2.extensions.set_wait_callback(callback)
    return time.perf_counter() - began, veteran_ids, posting_ids


def timed(proxy, calls):
    latencies, sizes = [], []
    for call in calls:
        began = time.perf_counter()
        reply = call(proxy)
        latencies.append(time.perf_counter() - began)
        sizes.append(len(reply) if isinstance(reply, list) else 0)
    return latencies, sizes


def figures(latencies):
    return {
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
        "calls_per_s": len(latencies) / sum(latencies),
    }


def run(args):
    print(
        f"bench: match_jobs with {POSTINGS:,} open postings and {VETERANS:,} veterans stored, "
        f"{MATCH_CALLS} calls from one client; match_candidates and health() beside it"
    )
    dsn, uri, env, token, logdir = environment()
    env = {**env, "WEB_SERVER_ADDRESS": WEB_PORT}
    procs = Processes(env, logdir)
    rng = random.Random(5)
    try:
        procs.start(
            "jobs", str(ROOT / "services/jobs/config.yaml"), "services.jobs.service:JobsService"
        )
        wait_health({"AMQP_URI": uri}, ["jobs"], procs)  # the schema is migrated now
        seconds, veteran_ids, posting_ids = load(dsn)
        print(
            f"  loaded {EMPLOYERS:,} employers, {POSTINGS:,} postings and {VETERANS:,} "
            f"veterans with COPY + VACUUM ANALYZE in {seconds:.1f} s"
        )
        with ClusterRpcProxy(
            {"AMQP_URI": uri}, timeout=30, context_data={"auth_token": token}
        ) as proxy:
            proxy.jobs.match_jobs(veteran_ids[0], 10)  # warm up: reply queue, a DB connection
            baseline, _ = timed(proxy, [lambda p: p.jobs.health()] * BASELINE_CALLS)
            cpu_before = cpu_seconds_by_component(procs)
            matches, sizes = timed(
                proxy,
                [
                    (lambda vid: lambda p: p.jobs.match_jobs(vid, 10))(rng.choice(veteran_ids))
                    for _ in range(MATCH_CALLS)
                ],
            )
            cpu_after = cpu_seconds_by_component(procs)
            candidates, candidate_sizes = timed(
                proxy,
                [
                    (lambda pid: lambda p: p.jobs.match_candidates(pid, 20))(
                        rng.choice(posting_ids)
                    )
                    for _ in range(CANDIDATE_CALLS)
                ],
            )
    finally:
        procs.stop()
    match, cand, base = figures(matches), figures(candidates), figures(baseline)
    cpu = {
        name: (cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0)) / MATCH_CALLS * 1000
        for name in ("jobs", "postgres", "rabbitmq", "bench client")
    }
    print(
        f"  match_jobs(limit 10)       p50 / p99 / max: {match['p50_ms']:.1f} / "
        f"{match['p99_ms']:.1f} / {match['max_ms']:.1f} ms   (target p50 < 30, p99 < 100); "
        f"{match['calls_per_s']:.0f} calls/s; {sum(sizes) / len(sizes):.1f} postings a reply"
    )
    print(
        f"  match_candidates(limit 20) p50 / p99 / max: {cand['p50_ms']:.1f} / "
        f"{cand['p99_ms']:.1f} / {cand['max_ms']:.1f} ms; "
        f"{sum(candidate_sizes) / len(candidate_sizes):.1f} veterans a reply"
    )
    print(
        f"  baseline health()          p50 / p99 / max: {base['p50_ms']:.1f} / "
        f"{base['p99_ms']:.1f} / {base['max_ms']:.1f} ms"
    )
    print(f"  match_jobs over the baseline, p50: +{match['p50_ms'] - base['p50_ms']:.1f} ms")
    print(
        "  CPU per match_jobs call (ms): "
        + ", ".join(f"{name} {ms:.2f}" for name, ms in cpu.items())
    )
    return {"match": match, "candidates": cand, "baseline": base, "cpu_ms": cpu}
