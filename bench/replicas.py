"""Benchmark case ``replicas``: how throughput changes when a service runs as two
processes instead of one, measured in one run on the same machine.

- bulk registration end to end, with ONE and with TWO loans processes (one registry):
  ``register_veterans`` in batches from a few clients → registry's outbox → relay → loans'
  batch inbox handler, timed until every eligibility assessment is stored (bench/bulk.py);
- registrations by RPC end to end, with ONE and with TWO registry processes (one loans):
  ``register_veteran`` from concurrent clients, timed until every assessment is stored
  (bench/bench.py's registrations).

Each on the machine's own servers (RabbitMQ 127.0.0.1:5672, PostgreSQL 127.0.0.1:5432)
and, with ``--cluster``, also on the local cluster (``make cluster-up``: RabbitMQ nodes
5701-5703 as ``vs-admin``, services on the ';'-separated failover list; PostgreSQL primary
5441 with its synchronous replica 5442, services on the multi-host URL). Every variant
starts from a fresh database and vhost ``veteran_bench``. For each it prints the
throughput, the CPU ms per registration of each component (registry's processes summed,
loans' summed, the RabbitMQ nodes, the PostgreSQL servers, the bench client) and the
ratio two / one. Every process shares the machine's cores: a second replica can only add
what one leaves idle on them.

    python bench/bench.py --case replicas [-n 3000] [--bulk-n 10000] [--clients 10]
                          [--cluster [--cluster-dir DIR]]

``--cluster-dir`` (or BENCH_CLUSTER_DIR; default .local/cluster) is where the cluster's
``admin.password`` is."""

import os
from pathlib import Path

import psycopg2
import requests

from bench.bench import bench_registrations
from bench.bulk import BATCH, CLIENTS, payloads, send_batches, wait_assessed
from bench.common import MACHINE, ROOT, Processes, Servers, cpu_seconds_by_component, environment

COMPONENTS = ("registry", "loans", "rabbitmq", "postgres", "bench client")
REGISTRY = ("services/registry/config.yaml", "services.registry.service:RegistryService")
LOANS = ("services/loans/config.yaml", "services.loans.service:LoansService")

CLUSTER_API = "http://127.0.0.1:15701/api"
CLUSTER_AMQP = ("127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5703")
CLUSTER_PRIMARY = "postgresql://postgres@127.0.0.1:5441/postgres"
CLUSTER_REPLICA = "postgresql://postgres@127.0.0.1:5442/postgres"
CLUSTER_ADMIN = "vs-admin"


def default_cluster_dir():
    return os.environ.get("BENCH_CLUSTER_DIR") or str(ROOT / ".local" / "cluster")


def cluster(cluster_dir):
    """The local cluster as Servers; exits with one line if it is not there."""
    password_file = Path(cluster_dir) / "admin.password"
    try:
        password = password_file.read_text().strip()
    except OSError:
        raise SystemExit(
            f"bench: no cluster administrator password at {password_file} "
            "(make cluster-up, or --cluster-dir / BENCH_CLUSTER_DIR)"
        ) from None
    servers = Servers(
        name="cluster",
        pg_admin=CLUSTER_PRIMARY,
        pg_hosts="127.0.0.1:5441,127.0.0.1:5442",
        pg_query="?target_session_attrs=read-write",
        pg_servers=(CLUSTER_PRIMARY, CLUSTER_REPLICA),
        rabbit_api=CLUSTER_API,
        rabbit_user=CLUSTER_ADMIN,
        rabbit_password=password,
        amqp_hosts=CLUSTER_AMQP,
    )
    try:
        answer = requests.get(
            f"{CLUSTER_API}/nodes?columns=name,running", auth=(CLUSTER_ADMIN, password), timeout=5
        )
        answer.raise_for_status()
        down = [node["name"] for node in answer.json() if not node.get("running")]
    except (requests.RequestException, ValueError) as exc:
        why = (
            "cannot connect"
            if isinstance(exc, requests.ConnectionError)
            else str(exc).splitlines()[0]
        )
        raise SystemExit(
            f"bench: the cluster is not reachable: RabbitMQ management API {CLUSTER_API}: {why}"
        ) from None
    if down:
        raise SystemExit(
            f"bench: the cluster is not whole: RabbitMQ node(s) {', '.join(down)} down"
        )
    for url, primary in ((CLUSTER_PRIMARY, True), (CLUSTER_REPLICA, False)):
        try:
            with psycopg2.connect(url, connect_timeout=5) as conn, conn.cursor() as cur:
                cur.execute("SELECT pg_is_in_recovery()")
                in_recovery = cur.fetchone()[0]
            conn.close()
        except psycopg2.Error as exc:
            raise SystemExit(
                f"bench: the cluster is not reachable: PostgreSQL "
                f"{url.rsplit('/', 1)[0]}: {str(exc).strip().splitlines()[0]}"
            ) from None
        if in_recovery == primary:
            raise SystemExit(
                f"bench: the cluster's PostgreSQL {url.rsplit('/', 1)[0]} is not "
                f"the {'primary' if primary else 'replica'} (after a failover? "
                "scripts/cluster.sh pg-reset)"
            )
    return servers


def started(registries, loans, logdir, env):
    """loans' processes first (their queues exist before registry publishes), then
    registry's; returns when every process's own /readyz says ready."""
    procs = Processes(env, logdir)
    try:
        procs.wait_ready(procs.start_replicas("loans", str(ROOT / LOANS[0]), LOANS[1], loans))
        procs.wait_ready(
            procs.start_replicas("registry", str(ROOT / REGISTRY[0]), REGISTRY[1], registries)
        )
    except BaseException:
        procs.stop()
        raise
    return procs


def measure(servers, kind, registries, loans, args):
    """One variant from a fresh database and vhost: → {per_s, seconds, cpu_ms}."""
    dsn, uri, env, token, logdir = environment(servers=servers)
    logdir = logdir / "replicas" / f"{servers.name.replace(' ', '-')}-{kind}-{registries}r{loans}l"
    logdir.mkdir(parents=True, exist_ok=True)  # every variant's logs kept
    procs = started(registries, loans, logdir, env)
    try:
        pids = servers.pids()
        if kind == "bulk":
            n = args.bulk_n
            data = payloads(n)
            size = max(1, min(BATCH, -(-n // CLIENTS)))
            batches = [data[i : i + size] for i in range(0, n, size)]
            cpu_before = cpu_seconds_by_component(procs, pids)
            began, _, _, _ = send_batches(uri, token, batches, CLIENTS)
            done = wait_assessed(dsn, n, began)
            cpu_after = cpu_seconds_by_component(procs, pids)
            seconds = done - began
        else:
            n = args.n
            cpu_before = cpu_seconds_by_component(procs, pids)
            result = bench_registrations(
                {"AMQP_URI": uri, "context_data": {"auth_token": token}}, dsn, n, args.clients
            )
            cpu_after = cpu_seconds_by_component(procs, pids)
            seconds = result["seconds"]
        procs.check_alive()
    finally:
        procs.stop()
    return {
        "per_s": n / seconds,
        "seconds": seconds,
        "cpu_ms": {
            name: (cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0)) / n * 1000
            for name in COMPONENTS
        },
    }


def report(label, result):
    cpu = result["cpu_ms"]
    print(
        f"    {label:14s}: {result['per_s']:8.1f} /s ({result['seconds']:.2f} s); CPU ms each: "
        + ", ".join(f"{name} {ms:.3f}" for name, ms in cpu.items())
        + f"; total {sum(cpu.values()):.3f}"
    )


def compare(servers, kind, args):
    scaled = "loans" if kind == "bulk" else "registry"
    if kind == "bulk":
        print(
            f"  {servers.name}: bulk, {args.bulk_n} veterans through register_veterans from "
            f"{CLIENTS} clients, until every assessment is stored; one registry"
        )
    else:
        print(
            f"  {servers.name}: {args.n} registrations by RPC from {args.clients} clients, "
            f"until every assessment is stored; one loans"
        )
    results = {}
    for count, label in ((1, "one"), (2, "two")):
        results[label] = measure(
            servers,
            kind,
            registries=count if scaled == "registry" else 1,
            loans=count if scaled == "loans" else 1,
            args=args,
        )
        report(f"{label} {scaled}", results[label])
    one, two = results["one"], results["two"]
    print(
        f"    {'two / one':14s}: throughput {two['per_s'] / one['per_s']:.2f}, CPU per "
        f"registration {sum(two['cpu_ms'].values()) / sum(one['cpu_ms'].values()):.2f}"
    )
    return results


def header():
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0))
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            model = next(
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    print(
        f"bench: replicas, one process of a service against two; this machine has {cores} "
        f"cores ({usable} usable here; {model})"
    )
    print(
        f"  the services, the broker, the database and this client share those {usable} "
        "cores: a second replica can only add what the first leaves idle on them, so "
        + (
            "with 2 cores the ratio two / one stays near 1 at best, whatever the code"
            if usable <= 2
            else "the ratio is bounded by the cores, not only by the code"
        )
    )


def run(args):
    targets = [MACHINE]
    if args.cluster:
        targets.append(cluster(args.cluster_dir or default_cluster_dir()))  # fail before any run
    header()
    results = {}
    for servers in targets:
        for kind in ("bulk", "registrations"):
            results[(servers.name, kind)] = compare(servers, kind, args)
    return results
