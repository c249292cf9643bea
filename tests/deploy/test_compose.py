"""deploy/compose.yaml and its host-network override: both validate; the override brings
up two healthy replicas of every service, each queue has one consumer per replica; and
the engine has no network but host and none (no bridge, ever)."""

import pytest
from deploy_support import DEPLOY, docker, rabbitmqctl

from tests.helpers import wait_for

SERVICES = ("registry", "loans", "jobs", "training", "followup")
PROJECT = "vet-deploy-check"


def compose(stack, *args, files=("compose.yaml", "compose.local.yaml"), timeout=300, check=True):
    flags = [arg for name in files for arg in ("-f", str(DEPLOY / name))]
    return docker(
        "compose",
        "-p",
        PROJECT,
        "--env-file",
        str(stack["env_file"]),
        *flags,
        *args,
        timeout=timeout,
        check=check,
    )


@pytest.mark.parametrize(
    "files",
    [("compose.yaml",), ("compose.yaml", "compose.local.yaml")],
    ids=["compose", "compose+local"],
)
def test_compose_files_validate(stack, files):
    compose(stack, "config", "--quiet", files=files)


def test_every_compose_service_has_limits_a_healthcheck_and_a_long_grace(stack):
    import json

    model = json.loads(compose(stack, "config", "--format", "json", files=("compose.yaml",)).stdout)
    for name in SERVICES:
        service = model["services"][name]
        assert service["deploy"]["replicas"] == 2
        limits = service["deploy"]["resources"]["limits"]
        assert limits["memory"] and limits["cpus"]
        assert service["restart"] == "unless-stopped"
        assert float(service["stop_grace_period"].rstrip("s")) > 30
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["read_only"] is True
    assert model["services"]["migrate"]["command"][-1] == "vetctl broker init && vetctl migrate"


def _consumers(vhost):
    rows = rabbitmqctl("list_queues", "-p", vhost, "name", "consumers").stdout.splitlines()
    return {
        name: int(count)
        for name, _, count in (row.partition("\t") for row in rows)
        if count.isdigit()
    }


def test_local_override_runs_two_healthy_replicas_each_consuming(stack):
    compose(stack, "down", "--remove-orphans", check=False)
    try:
        compose(stack, "up", "-d", "--wait", "--wait-timeout", "180")
        listed = compose(stack, "ps", "--format", "{{.Service}} {{.Health}}").stdout.split("\n")
        health = dict(line.split(" ", 1) for line in listed if line.strip())
        expected = {f"{svc}-{n}" for svc in SERVICES for n in (1, 2)}
        assert set(health) == expected
        assert set(health.values()) == {"healthy"}, health

        # Every service queue (rpc-<svc> and the handler queues) has a consumer per replica;
        # the broker may show a consumer a moment after the process reports ready.
        def service_queues():
            return {
                name: n
                for name, n in _consumers(stack["vhost"]).items()
                if name.startswith(("rpc-", "evt-"))
            }

        wait_for(
            lambda: set(service_queues().values()) == {2},
            timeout=20,
            interval=1,
            message="a consumer per replica on every service queue",
        )
        queues = service_queues()
        assert {f"rpc-{svc}" for svc in SERVICES} <= set(queues)
        assert all(
            name.split("--")[-1].split(".")[0] in SERVICES
            for name in queues
            if name.startswith("evt-")
        )
        assert len(queues) > len(SERVICES) and set(queues.values()) == {2}, queues
    finally:
        down = compose(stack, "down", "--remove-orphans", "--timeout", "40", check=False)
    assert down.returncode == 0, down.stderr
    assert compose(stack, "ps", "-a", "-q").stdout.strip() == ""


def test_engine_has_only_host_and_none_networks():
    names = docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert sorted(names) == ["host", "none"]
