"""Helpers every benchmark case shares: a fresh database and vhost, service processes,
health waits, CPU and memory readings. They run against the machine's own servers unless
a case passes other ``Servers`` (bench/replicas.py: the local cluster)."""

import os
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import requests
from nameko.standalone.rpc import ClusterRpcProxy

ROOT = Path(__file__).resolve().parent.parent
NAMEKO = str(Path(sys.executable).parent / "nameko")
PG_ADMIN = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
RABBIT_API = os.environ.get("BENCH_RABBIT_API", "http://127.0.0.1:15672/api")
VHOST = "veteran_bench"
DBNAME = "veteran_bench"


@dataclass(frozen=True)
class Servers:
    """Where a case runs. PostgreSQL: ``pg_admin`` is where its database is made;
    services reach it through ``pg_hosts`` (``host:port,...``; empty: pg_admin's) with
    ``pg_query``; ``pg_servers`` are the admin URLs of every server whose processes count
    as "postgres" (empty: pg_admin). RabbitMQ: the vhost is made through the management
    API ``rabbit_api`` as ``rabbit_user``, who is also who the services log in as, on
    each of ``amqp_hosts`` in turn (kombu's ';'-separated failover list)."""

    name: str = "single node"
    pg_admin: str = PG_ADMIN
    pg_hosts: str = ""
    pg_query: str = ""
    pg_servers: tuple = ()
    rabbit_api: str = RABBIT_API
    rabbit_user: str = "guest"
    rabbit_password: str = "guest"
    amqp_hosts: tuple = ("127.0.0.1:5672",)

    def database_url(self, name):
        base = self.pg_admin.rsplit("/", 1)[0]
        if self.pg_hosts:
            base = base.rsplit("@", 1)[0] + "@" + self.pg_hosts
        return f"{base}/{name}{self.pg_query}"

    def amqp_uri(self, vhost):
        login = (
            urllib.parse.quote(self.rabbit_user, safe="")
            + ":"
            + urllib.parse.quote(self.rabbit_password, safe="")
        )
        return ";".join(
            f"pyamqp://{login}@{host}/{urllib.parse.quote(vhost, safe='')}"
            for host in self.amqp_hosts
        )

    def pids(self):
        """{"rabbitmq": its nodes' beam.smp pids, "postgres": its postmasters' pids}, asked
        of the servers themselves (the management API's os_pid; the parent of a backend),
        so that other servers on the machine (the local cluster beside the machine's own)
        do not count."""
        auth = (self.rabbit_user, self.rabbit_password)
        nodes = requests.get(f"{self.rabbit_api}/nodes?columns=name,os_pid", auth=auth, timeout=10)
        nodes.raise_for_status()
        beams = {int(node["os_pid"]) for node in nodes.json() if node.get("os_pid")}
        postmasters = set()
        for url in self.pg_servers or (self.pg_admin,):
            with psycopg2.connect(url, connect_timeout=10) as conn, conn.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                postmasters.add(_stat(cur.fetchone()[0])[2])
            conn.close()
        return {"rabbitmq": beams, "postgres": postmasters}


MACHINE = Servers()


def fresh_database(name=DBNAME, servers=MACHINE):
    conn = psycopg2.connect(servers.pg_admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return servers.database_url(name)


def fresh_vhost(name=VHOST, servers=MACHINE):
    api, user = servers.rabbit_api, urllib.parse.quote(servers.rabbit_user, safe="")
    auth = (servers.rabbit_user, servers.rabbit_password)
    try:
        requests.delete(f"{api}/vhosts/{name}", auth=auth, timeout=10)
    except requests.ConnectionError:
        raise SystemExit(
            f"bench: no RabbitMQ management API at {api} "
            "(rabbitmq-plugins enable rabbitmq_management)"
        ) from None
    requests.put(f"{api}/vhosts/{name}", auth=auth, timeout=10).raise_for_status()
    requests.put(
        f"{api}/permissions/{name}/{user}",
        auth=auth,
        timeout=10,
        json={"configure": ".*", "write": ".*", "read": ".*"},
    ).raise_for_status()
    return servers.amqp_uri(name)


def free_port():
    """A TCP port free on 127.0.0.1 just now (for a process's HEALTH_ADDRESS)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    def __init__(self, env, logdir):
        self.env, self.logdir, self.procs = env, logdir, {}
        self.components, self.health_ports = {}, {}

    def start(self, name, config, module, component=None, env=None):
        """``nameko run`` of one process ``name``; its CPU counts under ``component``
        (default: the name itself); ``env`` is added to the shared environment."""
        log = open(self.logdir / f"{name}.log", "w")
        self.components[name] = component or name
        self.procs[name] = subprocess.Popen(
            [NAMEKO, "run", "--config", config, module],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_replicas(self, service, config, module, count):
        """``count`` processes of one service (``service-1`` …), each with a /readyz port of
        its own; returns their names (for wait_ready)."""
        names = []
        for i in range(1, count + 1):
            name, port = f"{service}-{i}", free_port()
            # and a web port of its own, for a service with HTTP (loans' banks, jobs' bureau)
            env = {
                "HEALTH_ADDRESS": f"127.0.0.1:{port}",
                "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
            }
            self.start(name, config, module, component=service, env=env)
            self.health_ports[name] = port
            names.append(name)
        return names

    def wait_ready(self, names, timeout=60):
        """Until each named process's own /readyz says ready (an RPC health() is answered
        by any one replica, so it cannot tell that every replica consumes)."""
        deadline = time.monotonic() + timeout
        for name in names:
            url = f"http://127.0.0.1:{self.health_ports[name]}/readyz"
            while True:
                self.check_alive()
                try:
                    if requests.get(url, timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"bench: {name} was not ready within {timeout} s; "
                        f"see {self.logdir}/{name}.log"
                    )
                time.sleep(0.2)

    def peak_rss_mb(self, name):
        with open(f"/proc/{self.procs[name].pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def check_alive(self):
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise SystemExit(
                    f"bench: {name} exited ({proc.returncode}); see {self.logdir}/{name}.log"
                )

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
                        raise SystemExit(f"bench: {name} did not become healthy") from None
                    time.sleep(0.5)


def _stat(pid):
    """(comm, CPU ticks user + system, parent pid) of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)
    rest = fields[1].split()
    return fields[0].split("(", 1)[1], int(rest[11]) + int(rest[12]), int(rest[1])


def cpu_seconds_by_component(procs, servers=None):
    """CPU time (user + system) so far of each part of the system, from /proc. Without
    ``servers`` (Servers.pids()) every beam.smp counts as rabbitmq and every postgres
    process as postgres; with it, only those nodes and the children of those postmasters."""
    ticks = os.sysconf("SC_CLK_TCK")
    service_pids = {
        proc.pid: procs.components.get(name, name) for name, proc in procs.procs.items()
    }
    totals = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm, cpu, ppid = _stat(entry)
        except (OSError, IndexError, ValueError):
            continue
        pid = int(entry)
        name = service_pids.get(pid) or (
            "bench client"
            if pid == os.getpid()
            else "rabbitmq"
            if comm == "beam.smp" and (servers is None or pid in servers["rabbitmq"])
            else "postgres"
            if comm == "postgres"
            and (servers is None or pid in servers["postgres"] or ppid in servers["postgres"])
            else None
        )
        if name:
            totals[name] = totals.get(name, 0.0) + cpu / ticks
    return totals


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def count(dsn, sql):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def environment(name=None, servers=MACHINE):
    """A fresh database and vhost (``veteran_bench``, or ``name`` for a case that runs
    beside the others) on ``servers``, the environment for the services' processes, an
    admin token for the clients, and the folder for their logs."""
    from shared.auth import issue

    dsn, uri = fresh_database(name or DBNAME, servers), fresh_vhost(name or VHOST, servers)
    logdir = ROOT / "bench" / "out" / (name or "")
    logdir.mkdir(parents=True, exist_ok=True)
    secret = "bench-" + os.urandom(16).hex()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "AMQP_URI": uri,
        "PYTHONPATH": str(ROOT),
        "PYTHONWARNINGS": "ignore",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "VET_AUTH_SECRET": secret,
    }
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
