"""`REPLICAS=2 scripts/services.sh up`: two processes per service, as separate `nameko run`s
under their own supervisors. They compete for the same queues (both answer RPCs), exactly
one relays the outbox and a live process takes over when it is killed, and followup's two
schedulers announce each due revisit once."""

import json
import os
import signal
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from shared import broker_access
from tests.conftest import SECRET
from tests.factories import make_veteran
from tests.helpers import bureau_today, scalar, wait_for
from tests.integration.followup.test_followup_scheduler import announcements, plant

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "services.sh"
STEP = 100  # scripts/services.sh HEALTH_PORT_STEP


def free_base():
    """A port P with P and P + STEP both free: the two replicas' probe ports."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + STEP < 65536:
            with socket.socket() as other:
                try:
                    other.bind(("127.0.0.1", port + STEP))
                except OSError:
                    continue
            return port
    raise RuntimeError("no pair of free ports")


@pytest.fixture
def replicas(config, tmp_path):
    """``replicas("registry", SCHEDULER_INTERVAL="0.2")`` → the instances' probe addresses."""
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    started = []

    def up(service, **settings):
        base = free_base()
        env = {
            **os.environ,
            "LOCAL_DIR": str(tmp_path),
            "AMQP_URI": config["AMQP_URI"],
            "DATABASE_URL": config["DATABASE_URL"],
            "VET_AUTH_SECRET": SECRET,
            "BROKER_USER_PREFIX": prefix,
            "REPLICAS": "2",
            "UP_TIMEOUT": "90",
            "HEALTH_ADDRESS": f"127.0.0.1:{base}",
            **settings,
        }
        started.append(env)
        result = subprocess.run(
            ["bash", str(SCRIPT), "up", service],
            env=env,
            capture_output=True,
            text=True,
            timeout=150,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr
        return {service: f"127.0.0.1:{base}", f"{service}-2": f"127.0.0.1:{base + STEP}"}

    yield up
    for env in started:
        subprocess.run(
            ["bash", str(SCRIPT), "down"], env=env, capture_output=True, timeout=90, cwd=ROOT
        )
    for user in broker_access.accesses():
        requests.delete(
            f"http://127.0.0.1:15672/api/users/{prefix}{user}", auth=("guest", "guest"), timeout=5
        )


def metric(address, name, **labels):
    """The sum of ``name``'s samples at ``address``/metrics whose labels include ``labels``."""
    text = requests.get(f"http://{address}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def nameko_pid(tmp_path, instance):
    supervisor = (tmp_path / "pids" / f"{instance}.pid").read_text().strip()
    found = subprocess.run(
        ["pgrep", "-P", supervisor, "-f", "nameko run"], capture_output=True, text=True
    ).stdout.split()
    return int(found[0]) if found else None


def leading(addresses):
    """The instances whose process leads the relay, when exactly one does (one still
    starting answers no metrics: it does not lead)."""
    found = []
    for instance, address in addresses.items():
        try:
            if metric(address, "vetsvc_relay_leader") == 1:
                found.append(instance)
        except requests.RequestException:
            pass
    return found if len(found) == 1 else None


def register(rpc, count):
    return [rpc.registry.register_veteran(make_veteran())["id"] for _ in range(count)]


def unpublished(db):
    return scalar(db, "SELECT count(*) FROM registry.outbox WHERE published_at IS NULL")


def test_two_registry_replicas_share_the_calls_and_hand_the_relay_over(replicas, rpc, db, tmp_path):
    addresses = replicas("registry")
    for address in addresses.values():
        assert requests.get(f"http://{address}/readyz", timeout=5).json()["status"] == "ready"
    leaders = wait_for(
        lambda: (lambda found: found if len(found) == 1 else None)(
            [i for i, a in addresses.items() if metric(a, "vetsvc_relay_leader") == 1]
        ),
        message="exactly one relay leader",
    )

    register(rpc, 40)
    calls = {
        i: metric(a, "vetsvc_rpc_requests_total", method="register_veteran")
        for i, a in addresses.items()
    }
    assert sum(calls.values()) == 40
    assert all(n > 0 for n in calls.values()), calls  # competing consumers: both did work
    wait_for(lambda: unpublished(db) == 0, message="the leader relayed every registration")

    [leader] = leaders
    killed = nameko_pid(tmp_path, leader)
    os.kill(killed, signal.SIGKILL)
    # The dead process's session ends, its advisory lock with it, and a live process takes
    # the relay over: the other replica (it tries every 2 s) or, when its supervisor
    # restarts it first (seen under load), the killed instance's new process. Either way
    # the lock left the dead session; had it not, no live process could lead.
    wait_for(
        lambda: leading(addresses) and nameko_pid(tmp_path, leader) != killed,
        timeout=30,
        message="a live process leading the relay after the kill",
    )
    ids = register(rpc, 20)
    wait_for(
        lambda: unpublished(db) == 0,
        timeout=20,
        message="registrations after the kill relayed by the new leader",
    )
    assert (
        scalar(db, "SELECT count(*) FROM registry.outbox WHERE routing_key = 'veteran_registered'")
        == 60
    )
    assert (
        scalar(db, "SELECT count(*) FROM registry.veterans WHERE id = ANY(%s::uuid[])", ids) == 20
    )


def test_two_followup_schedulers_announce_each_due_revisit_once(replicas, db, tmp_path):
    replicas("followup", SCHEDULER_INTERVAL="0.2", SCHEDULER_BATCH="25")
    # Planted once both instances are up: planted before, the first one up could make them
    # all due before the second had started (seen under load: {'followup-2': 600}).
    ids = plant(db, 600, due_on=bureau_today())  # due today (not yet overdue)
    wait_for(
        lambda: scalar(db, "SELECT count(*) FROM followup.revisits WHERE status = 'due'") == 600,
        timeout=60,
        message="600 revisits due",
    )
    announced = announcements(db)
    assert set(announced) == set(ids)
    assert set(announced.values()) == {1}
    # Both took part: each instance logs what each of its ticks made due.
    made_due = {}
    for instance in ("followup", "followup-2"):
        for line in (tmp_path / "logs" / f"{instance}.log").read_text().splitlines():
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("event") == "followup.scheduler":
                assert entry["instance"] == instance
                made_due[instance] = made_due.get(instance, 0) + entry["due"]
    assert sum(made_due.values()) == 600
    assert set(made_due) == {"followup", "followup-2"}, made_due
