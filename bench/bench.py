"""Benchmark: registrations end to end (RPC → registry's outbox → relay → loans' inbox
handler → stored assessment), against nameko's plain dispatcher → handler measured in the
same run on the same machine. Prints figures; asserts nothing.

    python bench/bench.py [-n 3000] [--clients 10] [--case CASE ...]
        CASE: registrations|bulk|search|matching|import|scheduler|duplicates|replicas|commit

It runs its own service processes against a database ``veteran_bench`` and a RabbitMQ
vhost ``veteran_bench``, both emptied first, so it neither needs nor disturbs `make up`."""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import psycopg2  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    ROOT,
    Processes,
    StartLine,
    count,
    cpu_seconds_by_component,
    environment,
    percentile,
    wait_health,
)
from tests.factories import make_veteran, unique_id_numbers  # noqa: E402


def bench_registrations(client_config, dsn, n, clients):
    # Distinct phones and varied names, as in real data (a shared phone would make every
    # card a possible duplicate of every other).
    surnames, given = (
        "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗",
        "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩",
    )
    payloads = [
        make_veteran(
            id_number=number,
            phone=f"139{i:08d}",
            name=surnames[i % 20] + given[(i // 20) % 20] + given[i % 7],
        )
        for i, number in enumerate(unique_id_numbers(n))
    ]
    latencies = []

    line = StartLine(clients)

    def client(chunk):
        config = {"AMQP_URI": client_config["AMQP_URI"]}
        with ClusterRpcProxy(
            config, timeout=30, context_data=client_config["context_data"]
        ) as proxy:
            # Warm up outside the clock: the reply queue, and one pooled DB connection each.
            proxy.registry.health()
            line.wait()
            for data in chunk:
                began = time.perf_counter()
                proxy.registry.register_veteran(data)
                latencies.append(time.perf_counter() - began)

    chunks = [payloads[i::clients] for i in range(clients)]
    pool = [eventlet.spawn(client, chunk) for chunk in chunks]
    began = line.start()
    for thread in pool:
        thread.wait()
    rpc_done = time.perf_counter()
    with psycopg2.connect(dsn) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            while True:
                cur.execute("SELECT count(*) FROM loans.eligibility_assessments")
                if cur.fetchone()[0] >= n:
                    break
                if time.perf_counter() - began > 600:
                    raise SystemExit("bench: assessments did not all arrive within 600 s")
                time.sleep(0.02)
    end_to_end = time.perf_counter() - began
    return {
        "end_to_end_per_s": n / end_to_end,
        "rpc_phase_per_s": n / (rpc_done - began),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "p90_ms": percentile(latencies, 90) * 1000,
        "max_ms": max(latencies) * 1000,
        "seconds": end_to_end,
    }


def bench_baseline(config, n, clients):
    with ClusterRpcProxy(config, timeout=120) as proxy:
        proxy.bench_consumer.reset()
        per = n // clients
        began = time.perf_counter()
        calls = [proxy.bench_producer.fire.call_async(i * per, per) for i in range(clients)]
        for call in calls:
            call.result()
        while proxy.bench_consumer.count() < per * clients:
            if time.perf_counter() - began > 600:
                raise SystemExit("bench: baseline events did not all arrive")
            time.sleep(0.02)
        return {"events_per_s": per * clients / (time.perf_counter() - began)}


def config_file(service, logdir, auth_on):
    """The service's own config; for the tokens-off comparison run, plus the switch that
    only a benchmark sets (it is in no shipped config file)."""
    path = ROOT / "services" / service / "config.yaml"
    if auth_on:
        return str(path)
    copy = logdir / f"{service}.no-auth.yaml"
    copy.write_text(
        path.read_text(encoding="utf-8") + "\nAUTH_DISABLED_FOR_BENCHMARK: true\n", encoding="utf-8"
    )
    return str(copy)


def run(args, auth_on, with_baseline):
    """Fresh database and vhost, the services started, N registrations measured."""
    dsn, uri, env, token, logdir = environment()
    config = {"AMQP_URI": uri}
    client_config = {"AMQP_URI": uri, "context_data": {"auth_token": token}}
    procs = Processes(env, logdir)
    try:
        procs.start(
            "loans", config_file("loans", logdir, auth_on), "services.loans.service:LoansService"
        )
        wait_health(config, ["loans"], procs)  # loans' queues exist before registry publishes
        procs.start(
            "registry",
            config_file("registry", logdir, auth_on),
            "services.registry.service:RegistryService",
        )
        waiting = ["registry"]
        if with_baseline:
            procs.start("baseline", "bench/baseline.yaml", "bench.baseline")
            waiting += ["bench_consumer", "bench_producer"]
        wait_health(config, waiting, procs)
        cpu_before = cpu_seconds_by_component(procs)
        reg = bench_registrations(client_config, dsn, args.n, args.clients)
        cpu_after = cpu_seconds_by_component(procs)
        reg["cpu_ms"] = {
            name: (cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0)) / args.n * 1000
            for name in ("registry", "loans", "rabbitmq", "postgres", "bench client")
        }
        reg["rss_mb"] = {name: procs.peak_rss_mb(name) for name in ("registry", "loans")}
        reg["unpublished"] = count(
            dsn, "SELECT count(*) FROM registry.outbox WHERE published_at IS NULL"
        )
        if with_baseline:
            reg["baseline"] = bench_baseline(config, args.n, args.clients)
        return reg
    finally:
        procs.stop()


# Further cases live in bench/<case>.py with a ``run(args)`` that prints its figures.
CASES = (
    "registrations",
    "bulk",
    "search",
    "matching",
    "import",
    "scheduler",
    "duplicates",
    "replicas",
    "commit",
)
MODULES = {"import": "imports"}  # a case whose module name differs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="registrations (and baseline events)")
    parser.add_argument("--clients", type=int, default=10, help="concurrent RPC clients")
    parser.add_argument(
        "--case",
        action="append",
        choices=CASES,
        help="run only these cases (repeatable); default: all",
    )
    parser.add_argument(
        "--bulk-n", type=int, default=10_000, help="veterans registered in bulk (replicas)"
    )
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="also on the local cluster, make cluster-up (replicas)",
    )
    parser.add_argument(
        "--cluster-dir",
        default=None,
        help="the cluster's folder with admin.password (replicas; default "
        "$BENCH_CLUSTER_DIR or .local/cluster)",
    )
    args = parser.parse_args()
    for case in args.case or CASES:
        if case == "registrations":
            registrations(args)
        else:
            try:
                module = importlib.import_module(f"bench.{MODULES.get(case, case)}")
            except ModuleNotFoundError:
                print(f"bench: case {case} is not written yet")
                continue
            module.run(args)


def registrations(args):
    print(
        f"bench: {args.n} registrations from {args.clients} concurrent RPC clients, "
        f"timed until {args.n} eligibility assessments are stored"
    )
    reg = run(args, auth_on=True, with_baseline=True)
    base = reg["baseline"]
    print(f"  registrations end to end : {reg['end_to_end_per_s']:8.1f} /s   (target >= 250)")
    print(f"  registration RPCs        : {reg['rpc_phase_per_s']:8.1f} /s")
    print(
        f"  RPC latency p50 / p90 / p99 / max: {reg['p50_ms']:.1f} / {reg['p90_ms']:.1f} / "
        f"{reg['p99_ms']:.1f} / {reg['max_ms']:.1f} ms   (target p99 < 50)"
    )
    print(f"  baseline nameko dispatch -> handler: {base['events_per_s']:8.1f} events/s")
    ratio = reg["end_to_end_per_s"] / base["events_per_s"]
    print(f"  ratio end-to-end / baseline        : {ratio:.2f}")
    print(f"  registry outbox rows left unpublished: {reg['unpublished']}")
    for name, mb in reg["rss_mb"].items():
        print(f"  peak RSS {name:9s}: {mb:6.1f} MB   (target < 150)")
    print("  CPU per registration, end to end (2 cores = 8 ms per registration at 250/s):")
    for name, ms in reg["cpu_ms"].items():
        print(f"    {name:13s}: {ms:5.2f} ms")
    print("bench: the same without token checks (a switch only the benchmark sets)")
    off = run(args, auth_on=False, with_baseline=False)
    print(
        f"  registrations end to end : {off['end_to_end_per_s']:8.1f} /s without tokens, "
        f"{reg['end_to_end_per_s']:.1f} /s with: "
        f"{(reg['end_to_end_per_s'] / off['end_to_end_per_s'] - 1) * 100:+.1f}%"
        "   (target within 10%)"
    )
    print(
        f"  registration RPCs        : {off['rpc_phase_per_s']:8.1f} /s without tokens, "
        f"{reg['rpc_phase_per_s']:.1f} /s with"
    )


if __name__ == "__main__":
    main()
