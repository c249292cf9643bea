"""The faults `make chaos` injects, on the local cluster (scripts/cluster.sh) and on the
services `scripts/services.sh up` runs against it. Each fault returns when it has ended
(the broker back, the process restarted, the database reachable): the runner measures
recovery from that moment. Nothing here touches the machine's own RabbitMQ or PostgreSQL.
"""

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SH = ROOT / "scripts" / "cluster.sh"
CLUSTER_DIR = ROOT / ".local" / "cluster"
NODES = ("a", "b", "c")
MANAGEMENT = "http://127.0.0.1:15701/api"
PG_VERSION, PRIMARY, REPLICA = "15", "vs-primary", "vs-replica"
SERVICES = ("registry", "loans", "jobs", "training", "followup")
HEALTH_PORTS = {"registry": 9101, "loans": 9102, "jobs": 9103, "training": 9104, "followup": 9105}
RELAYS = ("registry", "loans", "jobs", "training", "followup")  # every service has an outbox


def run(*command, check=True, timeout=180):
    return subprocess.run(
        [str(c) for c in command], check=check, capture_output=True, text=True, timeout=timeout
    )


def admin():
    return ("vs-admin", (CLUSTER_DIR / "admin.password").read_text().strip())


def api(path):
    response = requests.get(f"{MANAGEMENT}/{path}", auth=admin(), timeout=10)
    response.raise_for_status()
    return response.json()


# ---------------------------------------------------------------- RabbitMQ nodes


def ctl(node, *args, timeout=180):
    return run(CLUSTER_SH, "ctl", node, "-q", *args, timeout=timeout)


def node_pid(node):
    return int((CLUSTER_DIR / f"rabbit-{node}" / "pid").read_text().strip())


def busiest_queue_leader():
    """The node leading the queue with the most messages in it now (ready and unacked),
    ties broken by the most consumers; with the queue's name."""
    queues = api("queues/%2F?columns=name,messages,consumers,leader,node")
    queue = max(queues, key=lambda q: (q.get("messages") or 0, q.get("consumers") or 0))
    leader = queue.get("leader") or queue["node"]  # rabbit-a@localhost
    return leader.split("@")[0].removeprefix("rabbit-"), queue["name"]


def start_nodes():
    """`cluster.sh up`: starts a node that is down and waits for it (it rejoins)."""
    run(CLUSTER_SH, "up", timeout=300)


def broker_stopped(seconds):
    """Every node's app stopped (the whole broker gone) for ``seconds``, then started; the
    nodes start together: each waits for the others' tables."""
    for node in NODES:
        ctl(node, "stop_app")
    time.sleep(seconds)
    starting = [
        subprocess.Popen(
            [str(CLUSTER_SH), "ctl", node, "-q", "start_app"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for node in NODES
    ]
    for process in starting:
        process.wait(timeout=300)
    for node in NODES:
        ctl(node, "await_startup", "--timeout", "120")
    return {"seconds": seconds}


def node_killed(down_seconds=10):
    """``kill -9`` of the node leading the busiest queue; restarted after ``down_seconds``."""
    node, queue = busiest_queue_leader()
    os.kill(node_pid(node), signal.SIGKILL)
    time.sleep(down_seconds)
    start_nodes()
    return {"node": f"rabbit-{node}", "queue": queue}


def node_paused(seconds=30):
    """The busiest queue's leader frozen (``kill -STOP``) for ``seconds``, then resumed."""
    node, queue = busiest_queue_leader()
    pid = node_pid(node)
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)
    ctl(node, "await_startup", "--timeout", "120")
    return {"node": f"rabbit-{node}", "queue": queue}


# ---------------------------------------------------------------- service processes


@dataclass
class Services:
    """The instances `scripts/services.sh up` started with LOCAL_DIR=local_dir."""

    local_dir: Path
    replicas: int = 2

    def instances(self, service=None):
        names = []
        for svc in [service] if service else SERVICES:
            names += [svc] + [f"{svc}-{k}" for k in range(2, self.replicas + 1)]
        return names

    def supervisor(self, instance):
        return int((self.local_dir / "pids" / f"{instance}.pid").read_text().strip())

    def nameko_pid(self, instance):
        found = run(
            "pgrep", "-P", self.supervisor(instance), "-f", "nameko run", check=False
        ).stdout.split()
        return int(found[0]) if found else None

    @staticmethod
    def health_address(instance):
        svc, _, k = instance.partition("-")
        return f"127.0.0.1:{HEALTH_PORTS[svc] + 100 * (int(k or 1) - 1)}"

    def ready(self, instance):
        try:
            return (
                requests.get(
                    f"http://{self.health_address(instance)}/readyz", timeout=2
                ).status_code
                == 200
            )
        except requests.RequestException:
            return False

    def metric(self, instance, name):
        try:
            text = requests.get(f"http://{self.health_address(instance)}/metrics", timeout=3).text
        except requests.RequestException:
            return None
        for line in text.splitlines():
            if line.startswith((name + "{", name + " ")):
                return float(line.rsplit(" ", 1)[1])
        return None

    def relay_leader(self, service):
        for instance in self.instances(service):
            if self.metric(instance, "vetsvc_relay_leader") == 1:
                return instance
        return None

    def wait_restarted(self, instance, old_pid, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.nameko_pid(instance)
            if pid and pid != old_pid and self.ready(instance):
                return pid
            time.sleep(0.3)
        raise TimeoutError(f"{instance} was not back within {timeout}s")

    def killed_in_turn(self, pause=3.0):
        """``kill -9`` of one process of each service in turn: the relay's leader where
        one leads; its supervisor restarts it."""
        killed = []
        for svc in SERVICES:
            instance = self.relay_leader(svc) or svc
            pid = self.nameko_pid(instance)
            os.kill(pid, signal.SIGKILL)
            killed.append(instance)
            time.sleep(pause)
        for instance in killed:
            self.wait_restarted(instance, None)
        return {"killed": killed}

    def rolling_restart(self):
        """SIGTERM to every process in turn (nameko's graceful stop); the next only once
        the last is back and ready."""
        for instance in self.instances():
            pid = self.nameko_pid(instance)
            os.kill(pid, signal.SIGTERM)
            self.wait_restarted(instance, pid)
        return {"restarted": len(self.instances())}


# ---------------------------------------------------------------- PostgreSQL


def pg_ctl(name, *args, check=True):
    return run(
        "pg_ctlcluster",
        "--skip-systemctl-redirect",
        PG_VERSION,
        name,
        *args,
        check=check,
        timeout=120,
    )


def postmaster_pid(name):
    data = run("pg_lsclusters", "-h", PG_VERSION, name).stdout.split()[5]
    return int(Path(data, "postmaster.pid").read_text().split()[0])


def pg_restarted():
    pg_ctl(PRIMARY, "restart")  # fast: sessions are ended, commits in flight fail
    return {}


def pg_crashed(down_seconds=2):
    """``kill -9`` of the primary's postmaster (its backends end with it), then start: crash
    recovery from the WAL."""
    pid = postmaster_pid(PRIMARY)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _backends_left(pid):
        time.sleep(0.2)
    time.sleep(down_seconds)
    pg_ctl(PRIMARY, "start")
    return {"postmaster": pid}


def _backends_left(postmaster):
    return run("pgrep", "-P", postmaster, check=False).stdout.strip() != ""


def pg_failover():
    """The primary stopped and the replica promoted: the services' multi-host URL
    (target_session_attrs=read-write) finds it. The runner rebuilds both afterwards."""
    pg_ctl(PRIMARY, "stop", "-m", "fast")
    pg_ctl(REPLICA, "promote")
    return {"primary_now": REPLICA}


def reset_databases():
    """Both PostgreSQL clusters made anew (after a failover the old primary is stale)."""
    run(CLUSTER_SH, "pg-reset", timeout=300)


def primary_is_primary():
    result = run(
        "su",
        "postgres",
        "-c",
        "psql -X -At -h 127.0.0.1 -p 5441 -d postgres -c 'SELECT pg_is_in_recovery()'",
        check=False,
    )
    replica = run(
        "su",
        "postgres",
        "-c",
        "psql -X -At -h 127.0.0.1 -p 5442 -d postgres -c 'SELECT pg_is_in_recovery()'",
        check=False,
    )
    return result.stdout.strip() == "f" and replica.stdout.strip() == "t"
