"""Helpers every benchmark case shares: a fresh database and vhost, service processes,
health waits, CPU and memory readings."""
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import requests
from nameko.standalone.rpc import ClusterRpcProxy

ROOT = Path(__file__).resolve().parent.parent
NAMEKO = str(Path(sys.executable).parent / "nameko")
PG_ADMIN = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBIT_API = os.environ.get("BENCH_RABBIT_API", "http://127.0.0.1:15672/api")
VHOST = "veteran_bench"
DBNAME = "veteran_bench"


def fresh_database(name=DBNAME):
    conn = psycopg2.connect(PG_ADMIN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def fresh_vhost(name=VHOST):
    auth = ("guest", "guest")
    requests.delete(f"{RABBIT_API}/vhosts/{name}", auth=auth, timeout=10)
    requests.put(f"{RABBIT_API}/vhosts/{name}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{name}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    return f"pyamqp://guest:guest@127.0.0.1:5672/{name}"


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




def environment(name=None):
    """A fresh database and vhost (``veteran_bench``, or ``name`` for a case that runs
    beside the others), the environment for the services' processes, an admin token for
    the clients, and the folder for their logs."""
    from shared.auth import issue
    dsn, uri = fresh_database(name or DBNAME), fresh_vhost(name or VHOST)
    logdir = ROOT / "bench" / "out" / (name or "")
    logdir.mkdir(parents=True, exist_ok=True)
    secret = "bench-" + os.urandom(16).hex()
    env = {**os.environ, "DATABASE_URL": dsn, "AMQP_URI": uri, "PYTHONPATH": str(ROOT),
           "PYTHONWARNINGS": "ignore", "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
           "VET_AUTH_SECRET": secret}
    token = issue(secret, "bench", "admin", ["*"], name="benchmark", days=1)
    return dsn, uri, env, token, logdir


class StartLine:
    """Clients warm up (reply queue, a pooled connection), then start together: the clock
    starts when the last one is ready."""

    def __init__(self, clients):
        import eventlet.event
        self.clients, self.ready, self.go = clients, 0, eventlet.event.Event()

    def wait(self):
        self.ready += 1
        self.go.wait()

    def start(self):
        import eventlet
        while self.ready < self.clients:
            eventlet.sleep(0.01)
        began = time.perf_counter()
        self.go.send()
        return began
