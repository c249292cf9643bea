"""deploy/Dockerfile's image, run the hardened way: host network, read-only root, a tmpfs
/tmp, no capabilities, no privilege gain. It migrates, serves /readyz, runs as uid 10001
and stops cleanly on SIGTERM."""

import os
import re
import time
import urllib.request
from pathlib import Path

from deploy_support import DEPLOY, IMAGE, ROOT, docker, run

from tests.helpers import wait_for

HARDENED = (
    "--network",
    "host",
    "--read-only",
    "--tmpfs",
    "/tmp",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
)
HEALTH_PORT = 19190  # beside compose.local.yaml's 191N1/191N2


def run_image(*args, env=(), timeout=120):
    flags = [f"--env={key}={value}" for key, value in dict(env).items()]
    return docker("run", "--rm", *HARDENED, *flags, IMAGE, *args, timeout=timeout)


def broker_uri(stack, user=None):
    if user is None:
        return f"pyamqp://guest:guest@127.0.0.1:5672/{stack['vhost']}"
    login = stack["prefix"] + user
    return f"pyamqp://{login}:{stack['passwords'][user]}@127.0.0.1:5672/{stack['vhost']}"


def admin_env(stack):
    return {
        "BROKER_ADMIN_URI": broker_uri(stack),
        "AMQP_URI": broker_uri(stack),
        "BROKER_USER_PREFIX": stack["prefix"],
        "DATABASE_URL": stack["database_url"],
        **{f"BROKER_PASSWORD_{u.upper()}": pw for u, pw in stack["passwords"].items()},
    }


def test_pip_installed_from_the_wheelhouse_alone():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    installs = re.findall(r"pip install[^\n]*", dockerfile)
    assert installs and all("--no-index" in line for line in installs)
    build_log = os.environ.get("DEPLOY_BUILD_LOG")
    text = Path(build_log).read_text(encoding="utf-8", errors="replace") if build_log else ""
    if "Looking in" in text:  # the pip step ran in this build (not cached): /wheels alone
        assert "Looking in links: /wheels" in text
        assert "Looking in indexes" not in text and "Downloading" not in text


def test_the_wheelhouse_installs_with_every_index_unreachable():
    """The Dockerfile's install step, again, in its build stage, with the index pointed at a
    port nothing listens on: it succeeds, so the build needs no index."""
    build_image = f"{IMAGE}-build-stage"
    docker(
        "build",
        "--network",
        "host",
        "-q",
        "--target",
        "build",
        "-f",
        str(DEPLOY / "Dockerfile"),
        "--build-arg",
        f"BASE_IMAGE={os.environ.get('DEPLOY_BASE_IMAGE', 'local/debian:bookworm')}",
        "-t",
        build_image,
        str(ROOT),
        timeout=600,
    )
    # (The tag stays: removing it would drop the build stage's cached layers.)
    done = docker(
        "run",
        "--rm",
        "--network",
        "host",
        "-v",
        f"{ROOT / '.local' / 'wheels'}:/wheels:ro",
        "-e",
        "PIP_INDEX_URL=http://127.0.0.1:9/simple",
        "-e",
        "PIP_CONFIG_FILE=/dev/null",
        build_image,
        "sh",
        "-c",
        "python3.11 -m venv /tmp/v && /tmp/v/bin/pip install --no-cache-dir --no-index"
        " --find-links /wheels veteran-services"
        " && /tmp/v/bin/python -c 'import services.registry.service'",
        timeout=300,
    )
    assert "Successfully installed" in done.stdout and "veteran-services" in done.stdout


def test_hadolint_passes():
    done = run(str(ROOT / ".venv" / "bin" / "hadolint"), str(DEPLOY / "Dockerfile"), check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_runs_as_a_fixed_uid_that_is_not_root():
    assert run_image("id", "-u").stdout.strip() == "10001"


def test_runtime_has_neither_compilers_nor_pip():
    done = run_image("sh", "-c", "for c in gcc cc c++ make pip pip3; do command -v $c; done; true")
    assert done.stdout.strip() == ""


def test_root_filesystem_is_read_only_and_tmp_is_writable():
    done = run_image(
        "sh",
        "-c",
        "touch /opt/venv/x 2>/dev/null && echo root-writable; touch /tmp/x && echo tmp-writable",
    )
    assert done.stdout.split() == ["tmp-writable"]


def test_migrates_serves_readyz_and_stops_with_exit_0_on_sigterm(stack):
    done = run_image("vetctl", "broker", "init", env=admin_env(stack))
    assert f"{stack['prefix']}registry" in done.stdout
    done = run_image("vetctl", "migrate", env=admin_env(stack))
    assert "registry:" in done.stdout and "followup:" in done.stdout

    name = "vet-deploy-check-registry"
    docker("rm", "-f", name, check=False)
    docker(
        "run",
        "-d",
        "--name",
        name,
        *HARDENED,
        f"--env=AMQP_URI={broker_uri(stack, 'registry')}",
        f"--env=DATABASE_URL={stack['database_url']}",
        f"--env=VET_AUTH_SECRET={stack['auth_secret']}",
        f"--env=HEALTH_ADDRESS=127.0.0.1:{HEALTH_PORT}",
        IMAGE,
        "service",
        "registry",
    )
    try:

        def readyz():
            url = f"http://127.0.0.1:{HEALTH_PORT}/readyz"
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:
                    return reply.read().decode()
            except OSError:
                return None

        try:
            body = wait_for(readyz, timeout=60, interval=0.5, message="the container's /readyz")
        except AssertionError:
            body = None
        assert body and '"ready"' in body, docker("logs", name, check=False).stderr[-2000:]
        # PID 1 is tini, nameko its child: the signal goes through tini to nameko.
        assert docker("exec", name, "cat", "/proc/1/comm").stdout.strip() == "tini"
        began = time.monotonic()
        docker("stop", "-t", "40", name, timeout=60)
        took = time.monotonic() - began
        state = docker(
            "inspect", "-f", "{{.State.ExitCode}} {{.State.OOMKilled}}", name
        ).stdout.split()
        assert state == ["0", "false"], docker("logs", name, check=False).stderr[-2000:]
        assert took < 30, f"took {took:.1f} s: past SHUTDOWN_GRACE_SECONDS, so it was killed"
    finally:
        docker("rm", "-f", name, check=False)


def test_vetctl_runs_from_the_same_image():
    assert "Usage: vetctl" in run_image("vetctl", "--help").stdout


def test_an_unknown_service_is_refused_with_usage():
    done = docker("run", "--rm", *HARDENED, IMAGE, "service", "nosuch", check=False)
    assert done.returncode == 2 and "no service nosuch" in done.stderr


def test_with_no_arguments_it_prints_its_usage():
    assert "usage: entrypoint.sh service" in docker("run", "--rm", *HARDENED, IMAGE).stdout
