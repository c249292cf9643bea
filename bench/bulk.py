"""Benchmark case ``bulk``: 10,000 veterans through ``register_veterans`` in batches of
1,000 from a few concurrent clients, timed until every card is stored and every
``veteran_registered`` event is published (target: at least 2,000 veterans/s). Measured
twice: registry and the broker alone (loans' queue waiting, loans started afterwards to
drain it), and with loans consuming on the same two cores meanwhile.

    python bench/bench.py --case bulk"""

import os
import time

import eventlet
import eventlet.queue
import psycopg2
from nameko.standalone.rpc import ClusterRpcProxy

from bench.common import (
    ROOT,
    Processes,
    StartLine,
    count,
    cpu_seconds_by_component,
    environment,
    percentile,
    wait_health,
)
from services.loans.service import LoansService
from shared.messaging import declare_topology
from tests.factories import make_veteran, unique_id_numbers

TOTAL, BATCH, CLIENTS = 10_000, 1_000, 4
TARGET_PER_S = 2_000
COMPONENTS = ("registry", "loans", "rabbitmq", "postgres", "bench client")


def payloads(n):
    # Distinct phones and varied names, as in real data (one shared phone would make every
    # card a possible duplicate of every other).
    surnames, given = (
        "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗",
        "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩",
    )
    return [
        make_veteran(
            id_number=number,
            phone=f"139{i:08d}",
            name=surnames[i % 20] + given[(i // 20) % 20] + given[i % 7],
        )
        for i, number in enumerate(unique_id_numbers(n))
    ]


def send_batches(uri, token, batches, clients):
    """Each client takes the next batch off a shared queue; returns per-batch latencies,
    the statuses seen and when the last reply came."""
    todo = eventlet.queue.LightQueue()
    for batch in batches:
        todo.put(batch)
    latencies, statuses = [], {}
    line = StartLine(clients)

    def client():
        with ClusterRpcProxy(
            {"AMQP_URI": uri}, timeout=120, context_data={"auth_token": token}
        ) as proxy:
            proxy.registry.health()  # warm up outside the clock: the reply queue
            line.wait()
            while True:
                try:
                    batch = todo.get_nowait()
                except eventlet.queue.Empty:
                    return
                began = time.perf_counter()
                results = proxy.registry.register_veterans(batch)["results"]
                latencies.append(time.perf_counter() - began)
                for result in results:
                    statuses[result["status"]] = statuses.get(result["status"], 0) + 1

    threads = [eventlet.spawn(client) for _ in range(clients)]
    began = line.start()
    for thread in threads:
        thread.wait()
    return began, time.perf_counter(), latencies, statuses


def wait_published(dsn, n, began, limit=600):
    with psycopg2.connect(dsn) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            while True:
                cur.execute(
                    "SELECT (SELECT count(*) FROM registry.veterans),"
                    " (SELECT count(*) FROM registry.outbox WHERE routing_key ="
                    "  'veteran_registered' AND published_at IS NOT NULL)"
                )
                cards, published = cur.fetchone()
                if cards >= n and published >= n:
                    return time.perf_counter()
                if time.perf_counter() - began > limit:
                    raise SystemExit(
                        f"bench: after {limit} s only {cards} cards and "
                        f"{published} published events"
                    )
                time.sleep(0.01)


def wait_assessed(dsn, n, began, limit=600):
    """When loans has assessed every veteran (outside the measured figure: the target is
    about registering and publishing; this shows how far behind the consumer runs)."""
    while count(dsn, "SELECT count(*) FROM loans.eligibility_assessments") < n:
        if time.perf_counter() - began > limit:
            raise SystemExit(f"bench: loans had not assessed {n} veterans after {limit} s")
        time.sleep(0.05)
    return time.perf_counter()


def measure(together, n=TOTAL, batch_size=BATCH, clients=CLIENTS):
    """``together``: loans runs and consumes while registry registers and publishes, all
    on this machine's cores. Otherwise only loans' queue exists (declared as ``vetctl
    migrate`` does) and loans starts once every event is published: registry and the
    broker measured alone, then loans draining the backlog alone."""
    dsn, uri, env, token, logdir = environment()
    config = {"AMQP_URI": uri}
    data = payloads(n)
    batches = [data[i : i + batch_size] for i in range(0, n, batch_size)]
    procs = Processes(env, logdir)

    def start_loans():
        procs.start(
            "loans", str(ROOT / "services/loans/config.yaml"), "services.loans.service:LoansService"
        )
        wait_health(config, ["loans"], procs)

    try:
        if together:
            start_loans()  # loans' queues exist before registry publishes
        else:
            declare_topology(LoansService, config)
        procs.start(
            "registry",
            str(ROOT / "services/registry/config.yaml"),
            "services.registry.service:RegistryService",
        )
        wait_health(config, ["registry"], procs)
        cpu_before = cpu_seconds_by_component(procs)
        began, rpc_done, latencies, statuses = send_batches(uri, token, batches, clients)
        done = wait_published(dsn, n, began)
        cpu_after = cpu_seconds_by_component(procs)
        unpublished = count(dsn, "SELECT count(*) FROM registry.outbox WHERE published_at IS NULL")
        if together:
            assessed = count(dsn, "SELECT count(*) FROM loans.eligibility_assessments")
            loans_began = began
        else:
            assessed = 0
            start_loans()
            loans_began = time.perf_counter()
        caught_up = wait_assessed(dsn, n, loans_began)
        return {
            "per_s": n / (done - began),
            "rpc_per_s": n / (rpc_done - began),
            "seconds": done - began,
            "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000,
            "max_ms": max(latencies) * 1000,
            "statuses": statuses,
            "assessed": assessed,
            "loans_seconds": caught_up - loans_began,
            "cpu_ms": {
                name: (cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0)) / n * 1000
                for name in COMPONENTS
            },
            "rss_mb": {name: procs.peak_rss_mb(name) for name in ("registry", "loans")},
            "unpublished": unpublished,
        }
    finally:
        procs.stop()


def run(args):
    print(
        f"bench: {TOTAL} veterans through register_veterans in batches of {BATCH} from "
        f"{CLIENTS} concurrent clients, timed until every card is stored and every "
        f"veteran_registered event published (confirmed by the broker, in loans' queue)"
    )
    alone = measure(together=False)
    print("  registry and the broker, loans started after:")
    report(alone)
    print(
        f"  loans then assessed the {TOTAL} waiting events in {alone['loans_seconds']:.2f} s "
        f"({TOTAL / alone['loans_seconds']:.0f}/s)"
    )
    together = measure(together=True)
    print("  the same with loans consuming meanwhile, on the same cores:")
    report(together)
    print(
        f"  loans had assessed {together['assessed']} of them by then, and all of them "
        f"{together['loans_seconds']:.2f} s after the start"
    )
    print(
        f"  end to end with loans on the same cores / alone: "
        f"{together['per_s'] / alone['per_s']:.2f}"
    )


def report(result):
    print(
        f"    bulk registrations end to end : {result['per_s']:8.1f} veterans/s   "
        f"(target >= {TARGET_PER_S}; {result['seconds']:.2f} s)"
    )
    print(f"    bulk RPCs                     : {result['rpc_per_s']:8.1f} veterans/s")
    print(
        f"    batch RPC latency p50 / p99 / max: {result['p50_ms']:.0f} / "
        f"{result['p99_ms']:.0f} / {result['max_ms']:.0f} ms"
    )
    print(
        f"    rows: {', '.join(f'{k} {v}' for k, v in sorted(result['statuses'].items()))}; "
        f"outbox rows left unpublished: {result['unpublished']}"
    )
    print(
        "    peak RSS "
        + ", ".join(f"{name} {mb:.1f} MB" for name, mb in result["rss_mb"].items() if mb)
    )
    cores = os.cpu_count()
    print(
        f"    CPU per veteran until published ({cores} cores = "
        f"{cores / TARGET_PER_S * 1000:.1f} ms per veteran at {TARGET_PER_S:,}/s): "
        + ", ".join(f"{name} {ms:.3f}" for name, ms in result["cpu_ms"].items())
        + f"; total {sum(result['cpu_ms'].values()):.3f} ms"
    )
