"""Benchmark case ``duplicates``: 20 concurrent ``register_veterans`` batches of 1,000 rows
whose rows all share one phone (a county spreadsheet's placeholder), against 20 batches
with a phone each measured in the same run; meanwhile ``health()`` over RPC and the
process's ``/readyz`` are asked every 100 ms. Prints the batches' time and latency, the
probes' latency, and the longest ``possible_duplicates`` list stored.

    python bench/bench.py --case duplicates

Each half runs against a fresh database and vhost ``veteran_bench_duplicates`` (so it can
run beside the other cases) and its own registry process."""

import collections
import socket
import time

import eventlet
import eventlet.event
import psycopg2
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from bench.common import ROOT, Processes, StartLine, environment, percentile, wait_health
from tests.factories import make_veteran, unique_id_numbers

BATCHES, ROWS = 20, 1_000
SHARED_PHONE = "13900000000"
PROBE_EVERY = 0.1
NAME = "veteran_bench_duplicates"


def payloads(shared_phone):
    surnames, given = (
        "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗",
        "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩",
    )
    rows = [
        make_veteran(
            id_number=number,
            phone=shared_phone or f"139{i + 1:08d}",
            name=surnames[i % 20] + given[(i // 20) % 20] + given[i % 7],
        )
        for i, number in enumerate(unique_id_numbers(BATCHES * ROWS))
    ]
    return [rows[i : i + ROWS] for i in range(0, len(rows), ROWS)]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def probe(ask, stop, latencies):
    """Ask every PROBE_EVERY s (one question at a time) until ``stop`` is sent."""
    while not stop.ready():
        began = time.perf_counter()
        try:
            ask()
        except Exception as exc:  # counted, and reported apart from the timings
            latencies.append(type(exc).__name__)
        else:
            latencies.append(time.perf_counter() - began)
        eventlet.sleep(PROBE_EVERY)


def measure(shared_phone):
    dsn, uri, env, token, logdir = environment(NAME)
    port = free_port()
    procs = Processes({**env, "HEALTH_ADDRESS": f"127.0.0.1:{port}"}, logdir)
    batches = payloads(shared_phone)
    context = {"auth_token": token}
    try:
        procs.start(
            "registry",
            str(ROOT / "services/registry/config.yaml"),
            "services.registry.service:RegistryService",
        )
        wait_health({"AMQP_URI": uri}, ["registry"], procs)
        latencies, health, readyz, statuses = [], [], [], collections.Counter()
        line = StartLine(BATCHES)
        stop = eventlet.event.Event()

        def client(batch):
            with ClusterRpcProxy({"AMQP_URI": uri}, timeout=120, context_data=context) as proxy:
                proxy.registry.health()  # warm up outside the clock: the reply queue
                line.wait()
                began = time.perf_counter()
                try:
                    results = proxy.registry.register_veterans(batch)["results"]
                except Exception as exc:  # e.g. StatementTimeout: counted, reported
                    latencies.append(type(exc).__name__)
                    return
                latencies.append(time.perf_counter() - began)
                statuses.update(r["status"] for r in results)

        url = f"http://127.0.0.1:{port}/readyz"

        def ask_readyz():
            requests.get(url, timeout=10).raise_for_status()

        with ClusterRpcProxy({"AMQP_URI": uri}, timeout=60) as prober:
            prober.registry.health()  # its reply queue: ready before the clock starts
            clients = [eventlet.spawn(client, batch) for batch in batches]
            began = line.start()
            probes = [
                eventlet.spawn(probe, prober.registry.health, stop, health),
                eventlet.spawn(probe, ask_readyz, stop, readyz),
            ]
            for thread in clients:
                thread.wait()
            seconds = time.perf_counter() - began
            stop.send()
            for thread in probes:
                thread.wait()
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT count(*), max(cardinality(possible_duplicates)) FROM registry.veterans"
            )
            cards, longest = cur.fetchone()
        return {
            "seconds": seconds,
            "batch": latencies,
            "health": health,
            "readyz": readyz,
            "cards": cards,
            "longest": longest or 0,
            "statuses": statuses,
        }
    finally:
        procs.stop()


def figures(values):
    timed = [v for v in values if isinstance(v, float)]
    failed = collections.Counter(v for v in values if isinstance(v, str))
    text = (
        f"p50 / max {percentile(timed, 50) * 1000:.0f} / {max(timed) * 1000:.0f} ms"
        f" over {len(timed)}"
        if timed
        else "none answered"
    )
    return text + "".join(f", {n} failed with {name}" for name, n in failed.items())


def run(args):
    print(
        f"bench: {BATCHES} concurrent register_veterans batches of {ROWS} rows, all rows"
        f" sharing one phone, against the same with a phone each; health() and /readyz"
        f" asked every {PROBE_EVERY * 1000:.0f} ms meanwhile"
    )
    results = {}
    for label, phone in (("unique phones", None), ("one shared phone", SHARED_PHONE)):
        result = results[label] = measure(phone)
        print(f"  {label}:")
        print(
            f"    {BATCHES} batches in {result['seconds']:.2f} s; batch latency"
            f" {figures(result['batch'])}"
        )
        print(f"    health() RPC {figures(result['health'])}; /readyz {figures(result['readyz'])}")
        print(
            f"    {result['cards']} cards; longest possible_duplicates {result['longest']};"
            f" rows {dict(result['statuses'])}"
        )
    ratio = results["one shared phone"]["seconds"] / results["unique phones"]["seconds"]
    print(f"  shared phone / unique phones, time for the {BATCHES} batches: {ratio:.2f}")
