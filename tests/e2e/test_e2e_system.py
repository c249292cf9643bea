"""The system as `make up` leaves it: every service answering, running this checkout's code
as its own broker login, on the run's own ports."""

import os
import subprocess
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import BIN, ROOT, SERVICES

pytestmark = pytest.mark.e2e


def test_up_migrated_and_started_every_service_and_each_answers_health(system):
    assert "applied" in system.up.stdout  # vetctl migrate ran before the services started
    for service in SERVICES:
        assert f"{service} up: pid" in system.up.stdout
        ready = requests.get(
            f"http://{system.env[f'HEALTH_ADDRESS_{service.upper()}']}/readyz", timeout=5
        )
        assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    health = system.vetctl("health")
    assert health.count('"status": "ok"') == len(SERVICES), health


def nameko_processes(system):
    """{instance: pid} of each `nameko run` under its supervisor (the pid file's process)."""
    found = {}
    for service in SERVICES:
        supervisor = (system.local / "pids" / f"{service}.pid").read_text().strip()
        children = subprocess.run(
            ["pgrep", "-P", supervisor, "-f", "nameko run"], capture_output=True, text=True
        ).stdout.split()
        assert len(children) == 1, (service, children)
        found[service] = int(children[0])
    return found


def test_every_service_runs_this_checkouts_code(system):
    # A second worktree shares the first's editable .venv: PYTHONPATH and the directory
    # decide which code runs, so check both in each process, and what they import.
    for service, pid in nameko_processes(system).items():
        proc = Path(f"/proc/{pid}")
        environ = dict(
            item.split("=", 1)
            for item in proc.joinpath("environ").read_bytes().decode().split("\0")
            if "=" in item
        )
        assert environ["PYTHONPATH"].split(":")[0] == str(ROOT), service
        assert environ["AMQP_URI"].startswith(
            f"pyamqp://{system.env['BROKER_USER_PREFIX']}{service}:"
        )
        assert proc.joinpath("cmdline").read_bytes().split(b"\0")[-2] == (
            f"services.{service}.service:{service.capitalize()}Service".encode()
        )
        assert os.readlink(proc / "cwd") == str(ROOT), service
    imported = system.run(
        BIN / "python",
        "-c",
        "import services, vetctl; print(services.__file__); print(vetctl.__file__)",
    ).stdout.split()
    assert imported == [
        str(ROOT / "services" / "__init__.py"),
        str(ROOT / "vetctl" / "__init__.py"),
    ]
