"""`make up` supervises its services: one killed with SIGKILL is back within seconds, the
restart is logged, logs keep their rotations, and `down` stops supervisor and service."""

import os
import signal
import socket
import subprocess
import uuid
from pathlib import Path

import requests

from shared import broker_access
from tests.conftest import SECRET
from tests.helpers import connected_users, wait_for

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "services.sh"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid):
    found = subprocess.run(
        ["pgrep", "-P", str(pid), "-f", "nameko run"], capture_output=True, text=True
    ).stdout.split()
    return [int(p) for p in found]


def test_a_killed_service_is_restarted_and_down_stops_it(config, rpc, tmp_path):
    # `up` runs `vetctl broker init` as the test's guest: logins of this test's own.
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    env = {
        **os.environ,
        "LOCAL_DIR": str(tmp_path),
        "AMQP_URI": config["AMQP_URI"],
        "DATABASE_URL": config["DATABASE_URL"],
        "VET_AUTH_SECRET": SECRET,
        "BROKER_USER_PREFIX": prefix,
        "UP_TIMEOUT": "60",
        "LOG_KEEP": "3",
        "HEALTH_ADDRESS": f"127.0.0.1:{free_port()}",
    }
    up = subprocess.run(
        ["bash", str(SCRIPT), "up", "registry"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    try:
        assert up.returncode == 0, up.stderr
        supervisor = int((tmp_path / "pids" / "registry.pid").read_text())
        [first] = wait_for(lambda: children(supervisor), message="nameko under its supervisor")
        assert rpc.registry.health()["status"] == "ok"
        # The supervised service runs as its own broker user, not as the guest that ran `up`.
        assert f"{prefix}registry" in connected_users(config["vhost"])
        ready = requests.get(f"http://{env['HEALTH_ADDRESS']}/readyz", timeout=5)
        assert ready.json()["status"] == "ready"  # what `up` waited for
        for _ in range(3):  # three crashes: each restarted, the logs rotated, three kept
            os.kill(children(supervisor)[0], signal.SIGKILL)
            wait_for(
                lambda: children(supervisor) and children(supervisor)[0] != first,
                timeout=30,
                message="a new nameko process",
            )
            first = children(supervisor)[0]
            wait_for(lambda: _answers(rpc), timeout=30, message="registry answering again")
        logs = sorted(p.name for p in (tmp_path / "logs").iterdir())
        assert logs == ["registry.log", "registry.log.1", "registry.log.2", "registry.log.3"]
        restarts = "".join((tmp_path / "logs" / name).read_text() for name in logs)
        assert restarts.count('"supervisor.restarting"') == 3
        assert '"exit_status": 137' in restarts
    finally:
        down = subprocess.run(
            ["bash", str(SCRIPT), "down"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        for user in broker_access.accesses():
            requests.delete(
                f"http://127.0.0.1:15672/api/users/{prefix}{user}",
                auth=("guest", "guest"),
                timeout=5,
            )
    assert down.returncode == 0, down.stderr
    wait_for(lambda: not _alive(supervisor), message="the supervisor gone")
    assert not _alive(first)


def _answers(rpc):
    try:
        return rpc.registry.health()["status"] == "ok"
    except Exception:
        return False


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
