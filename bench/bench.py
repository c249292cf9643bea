"""Benchmark: registrations end to end (RPC → registry's outbox → relay → loans' inbox
handler → stored assessment), against nameko's plain dispatcher → handler measured in the
same run on the same machine. Prints figures; asserts nothing.

    python bench/bench.py [-n 2000] [--clients 10]

It runs its own service processes against a database ``veteran_bench`` and a RabbitMQ
vhost ``veteran_bench``, both emptied first, so it neither needs nor disturbs `make up`."""
import eventlet
import eventlet.event
import eventlet.semaphore

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import psycopg2  # noqa: E402
import requests  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.factories import make_veteran, unique_id_numbers  # noqa: E402

NAMEKO = str(Path(sys.executable).parent / "nameko")
PG_ADMIN = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBIT_API = os.environ.get("BENCH_RABBIT_API", "http://127.0.0.1:15672/api")
VHOST = "veteran_bench"
DBNAME = "veteran_bench"


def fresh_database():
    conn = psycopg2.connect(PG_ADMIN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{DBNAME}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{DBNAME}"')
    conn.close()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + DBNAME


def fresh_vhost():
    auth = ("guest", "guest")
    requests.delete(f"{RABBIT_API}/vhosts/{VHOST}", auth=auth, timeout=10)
    requests.put(f"{RABBIT_API}/vhosts/{VHOST}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{VHOST}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    return f"pyamqp://guest:guest@127.0.0.1:5672/{VHOST}"


class Processes:
    def __init__(self, env, logdir):
        self.env, self.logdir, self.procs = env, logdir, {}

    def start(self, name, config, module):
        log = open(self.logdir / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(
            [NAMEKO, "run", "--config", config, module], cwd=ROOT, env=self.env,
            stdout=log, stderr=subprocess.STDOUT)

    def peak_rss_mb(self, name):
        with open(f"/proc/{self.procs[name].pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def check_alive(self):
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise SystemExit(f"bench: {name} exited ({proc.returncode}); see {self.logdir}/{name}.log")

    def stop(self):
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_health(config, services, procs, timeout=60):
    deadline = time.monotonic() + timeout
    with ClusterRpcProxy(config, timeout=2) as proxy:
        for name in services:
            while True:
                procs.check_alive()
                try:
                    getattr(proxy, name).health()
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"bench: {name} did not become healthy")
                    time.sleep(0.5)


def cpu_seconds_by_component(procs):
    """CPU time (user + system) so far of each part of the system, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    service_pids = {proc.pid: name for name, proc in procs.procs.items()}
    totals = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)
            comm = fields[0].split("(", 1)[1]
            utime, stime = (int(x) for x in fields[1].split()[11:13])
        except (OSError, IndexError, ValueError):
            continue
        pid = int(entry)
        name = service_pids.get(pid) or ("bench client" if pid == os.getpid() else
                                        "rabbitmq" if comm == "beam.smp" else
                                        "postgres" if comm == "postgres" else None)
        if name:
            totals[name] = totals.get(name, 0.0) + (utime + stime) / ticks
    return totals


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def count(dsn, sql):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def bench_registrations(client_config, dsn, n, clients):
    payloads = [make_veteran(id_number=number) for number in unique_id_numbers(n)]
    latencies = []

    ready, go = eventlet.semaphore.CappedSemaphore(clients, clients), eventlet.event.Event()

    def client(chunk):
        config = {"AMQP_URI": client_config["AMQP_URI"]}
        with ClusterRpcProxy(config, timeout=30, context_data=client_config["context_data"]) as proxy:
            # Warm up outside the clock: the reply queue, and one pooled DB connection each.
            proxy.registry.health()
            ready.release()
            go.wait()
            for data in chunk:
                began = time.perf_counter()
                proxy.registry.register_veteran(data)
                latencies.append(time.perf_counter() - began)

    chunks = [payloads[i::clients] for i in range(clients)]
    for _ in range(clients):
        ready.acquire()
    pool = [eventlet.spawn(client, chunk) for chunk in chunks]
    while ready.balance < clients:
        eventlet.sleep(0.01)
    began = time.perf_counter()
    go.send()
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
    copy.write_text(path.read_text(encoding="utf-8") + "\nAUTH_DISABLED_FOR_BENCHMARK: true\n",
                    encoding="utf-8")
    return str(copy)


def run(args, auth_on, with_baseline):
    """Fresh database and vhost, the services started, N registrations measured."""
    from shared.auth import issue
    dsn, uri = fresh_database(), fresh_vhost()
    logdir = ROOT / "bench" / "out"
    logdir.mkdir(parents=True, exist_ok=True)
    secret = "bench-" + os.urandom(8).hex()
    env = {**os.environ, "DATABASE_URL": dsn, "AMQP_URI": uri, "PYTHONPATH": str(ROOT),
           "PYTHONWARNINGS": "ignore", "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
           "VET_AUTH_SECRET": secret}
    token = issue(secret, "bench", "admin", ["*"], name="benchmark", days=1)
    config = {"AMQP_URI": uri}
    client_config = {"AMQP_URI": uri, "context_data": {"auth_token": token}}
    procs = Processes(env, logdir)
    try:
        procs.start("loans", config_file("loans", logdir, auth_on), "services.loans.service")
        wait_health(config, ["loans"], procs)  # loans' queues exist before registry publishes
        procs.start("registry", config_file("registry", logdir, auth_on),
                    "services.registry.service")
        waiting = ["registry"]
        if with_baseline:
            procs.start("baseline", "bench/baseline.yaml", "bench.baseline")
            waiting += ["bench_consumer", "bench_producer"]
        wait_health(config, waiting, procs)
        cpu_before = cpu_seconds_by_component(procs)
        reg = bench_registrations(client_config, dsn, args.n, args.clients)
        cpu_after = cpu_seconds_by_component(procs)
        reg["cpu_ms"] = {name: (cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0)) / args.n * 1000
                         for name in ("registry", "loans", "rabbitmq", "postgres", "bench client")}
        reg["rss_mb"] = {name: procs.peak_rss_mb(name) for name in ("registry", "loans")}
        reg["unpublished"] = count(dsn, "SELECT count(*) FROM registry.outbox"
                                        " WHERE published_at IS NULL")
        if with_baseline:
            reg["baseline"] = bench_baseline(config, args.n, args.clients)
        return reg
    finally:
        procs.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="registrations (and baseline events)")
    parser.add_argument("--clients", type=int, default=10, help="concurrent RPC clients")
    args = parser.parse_args()

    print(f"bench: {args.n} registrations from {args.clients} concurrent RPC clients, "
          f"timed until {args.n} eligibility assessments are stored")
    reg = run(args, auth_on=True, with_baseline=True)
    base = reg["baseline"]
    print(f"  registrations end to end : {reg['end_to_end_per_s']:8.1f} /s   (target >= 250)")
    print(f"  registration RPCs        : {reg['rpc_phase_per_s']:8.1f} /s")
    print(f"  RPC latency p50 / p90 / p99 / max: {reg['p50_ms']:.1f} / {reg['p90_ms']:.1f} / "
          f"{reg['p99_ms']:.1f} / {reg['max_ms']:.1f} ms   (target p99 < 50)")
    print(f"  baseline nameko dispatch -> handler: {base['events_per_s']:8.1f} events/s")
    print(f"  ratio end-to-end / baseline        : {reg['end_to_end_per_s'] / base['events_per_s']:.2f}")
    print(f"  registry outbox rows left unpublished: {reg['unpublished']}")
    for name, mb in reg["rss_mb"].items():
        print(f"  peak RSS {name:9s}: {mb:6.1f} MB   (target < 150)")
    print("  CPU per registration, end to end (2 cores = 8 ms per registration at 250/s):")
    for name, ms in reg["cpu_ms"].items():
        print(f"    {name:13s}: {ms:5.2f} ms")
    print("bench: the same without token checks (a switch only the benchmark sets)")
    off = run(args, auth_on=False, with_baseline=False)
    print(f"  registrations end to end : {off['end_to_end_per_s']:8.1f} /s without tokens, "
          f"{reg['end_to_end_per_s']:.1f} /s with: "
          f"{(reg['end_to_end_per_s'] / off['end_to_end_per_s'] - 1) * 100:+.1f}%   (target within 10%)")
    print(f"  registration RPCs        : {off['rpc_phase_per_s']:8.1f} /s without tokens, "
          f"{reg['rpc_phase_per_s']:.1f} /s with")


if __name__ == "__main__":
    main()
