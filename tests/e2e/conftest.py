"""The end-to-end tier: every service started as `make up` starts it (`scripts/services.sh up`:
`vetctl check`, `broker init`, `migrate`, then one supervised `nameko run` per service) on a
RabbitMQ vhost, a PostgreSQL database, broker logins, ports and a LOCAL_DIR of the run's own,
beside any `make up` on the machine; driven the way its users drive it: `vetctl` as a
subprocess with the admin token `up` wrote, the bureau over signed HTTP. Stopped with
`services.sh down` and everything removed at the end, whatever happened; a failing test gets
the tail of every service's log in its report.

The processes import this checkout's code: they run from it with it first on PYTHONPATH (a
second worktree sharing another checkout's editable .venv would otherwise run that one's)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import psycopg2
import pytest
import requests

from services.jobs.bureau import SIGNING
from shared import broker_access
from tests.conftest import ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "services.sh"
BIN = Path(sys.executable).parent
SERVICES = ("registry", "loans", "jobs", "training", "followup")
RABBIT_API = os.environ.get("RABBIT_API", "http://127.0.0.1:15672/api")
GUEST = ("guest", "guest")
BUREAU_SECRET = "e2e-bureau-shared-secret-0123456789abcdef"
# What would point the script or vetctl at another system (a developer's own settings).
FOREIGN = {
    "AMQP_URI",
    "BROKER_ADMIN_URI",
    "OPERATIONS_AMQP_URI",
    "DATABASE_URL",
    "HEALTH_ADDRESS",
    "WEB_SERVER_ADDRESS",
    "VET_AUTH_SECRET",
    "VET_AUTH_DENY_LIST",
    "VETCTL_TOKEN",
    "BROKER_USER_PREFIX",
    "SERVICES",
    "REPLICAS",
    "LOCAL_DIR",
    "BUREAU_HMAC_SECRET",
    "BANK_HMAC_SECRETS",
    "PLANS_FILE",
    "PRODUCTS_FILE",
}
FOREIGN_PREFIXES = ("HEALTH_ADDRESS_", "BROKER_PASSWORD_", "WEB_SERVER_ADDRESS_")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    system = getattr(item, "funcargs", {}).get("system")
    if report.failed and isinstance(system, System):
        report.sections.append(("service logs (last lines)", system.tail()))
    return report


class System:
    """The running system as its users reach it."""

    def __init__(self, local, env, web):
        self.local, self.env, self.web = local, env, web
        self.logs = local / "logs"
        self._signed = set()

    def run(self, *args, timeout=120):
        return subprocess.run(
            [str(a) for a in args],
            env=self.env,
            cwd=ROOT,
            timeout=timeout,
            capture_output=True,
            text=True,
        )

    def vetctl(self, *args, expect=0):
        """Standard output of ``vetctl ARGS`` (an operator's shell: the admin token from
        LOCAL_DIR, the vetctl login); its exit code must be ``expect``."""
        done = self.run(BIN / "vetctl", *args)
        assert done.returncode == expect, (
            f"vetctl {' '.join(map(str, args))}: exit {done.returncode}\n{done.stderr}"
            f"{done.stdout[-2000:]}\n{self.tail()}"
        )
        return done.stdout if expect == 0 else done.stderr

    def vetctl_json(self, *args):
        return json.loads(self.vetctl("--json", *args))

    def bureau(self, method, path, query="", body=b"", headers=None):
        """A request signed as the bureau signs it (shared/http.py, services/jobs/bureau.py)."""
        stamp = int(time.time())
        while (stamp, method, path, query, body) in self._signed:  # a signature is good once
            stamp -= 1
        self._signed.add((stamp, method, path, query, body))
        signed = SIGNING.headers(BUREAU_SECRET, stamp, method, path, query, body)
        url = f"http://{self.web}{path}" + (f"?{query}" if query else "")
        return requests.request(
            method,
            url,
            data=body,
            timeout=30,
            headers={"Content-Type": "application/json", **signed, **(headers or {})},
        )

    def log_text(self):
        return "".join(
            path.read_text(errors="replace") for path in sorted(self.logs.glob("*.log*"))
        )

    def tail(self, lines=15):
        out = []
        for service in SERVICES:
            path = self.logs / f"{service}.log"
            text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
            out.append(f"---- {path} ----\n" + "\n".join(text))
        return "\n".join(out)


class Broker:
    """The run's vhost and, at the end, the logins `broker init` made for it (management API)."""

    def __init__(self, vhost, prefix):
        self.vhost, self.prefix = vhost, prefix

    def create(self):
        requests.put(f"{RABBIT_API}/vhosts/{self.vhost}", auth=GUEST, timeout=10).raise_for_status()

    def delete(self):
        for user in broker_access.accesses():
            login = urllib.parse.quote(broker_access.user_name(user, self.prefix), safe="")
            requests.delete(f"{RABBIT_API}/users/{login}", auth=GUEST, timeout=10)
        requests.delete(f"{RABBIT_API}/vhosts/{self.vhost}", auth=GUEST, timeout=10)


def _admin(sql):
    conn = psycopg2.connect(ADMIN_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    """Every service up through `scripts/services.sh up` on a vhost, database, logins and
    ports of this run; `down` and all of it removed afterwards."""
    name = f"veteran_e2e_{uuid.uuid4().hex[:8]}"
    local = tmp_path_factory.mktemp("e2e-local")
    web = f"127.0.0.1:{free_port()}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in FOREIGN and not key.startswith(FOREIGN_PREFIXES)
    }
    env.update(
        {
            "LOCAL_DIR": str(local),
            # `up` runs check, broker init and migrate as the administrator on the run's vhost;
            # each service then runs as its own login (prefixed: logins are the broker's, not
            # the vhost's, and a developer's own must not be touched).
            "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{name}",
            "BROKER_USER_PREFIX": f"{name}-",
            "DATABASE_URL": ADMIN_URL.rsplit("/", 1)[0] + "/" + name,
            "WEB_SERVER_ADDRESS": web,
            "WEB_SERVER_ADDRESS_LOANS": f"127.0.0.1:{free_port()}",  # the banks' HTTP
            "BUREAU_HMAC_SECRET": BUREAU_SECRET,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::UserWarning",
            "EVENTLET_TESTS": "1",
            "UP_TIMEOUT": "90",
            "STOP_TIMEOUT": "30",
            "COLUMNS": "200",
            **{
                f"HEALTH_ADDRESS_{service.upper()}": f"127.0.0.1:{free_port()}"
                for service in SERVICES
            },
        }
    )
    broker = Broker(name, env["BROKER_USER_PREFIX"])
    _admin(f'CREATE DATABASE "{name}"')
    system = System(local, env, web)
    try:
        broker.create()
        up = system.run("bash", SCRIPT, "up", *SERVICES, timeout=240)
        assert up.returncode == 0, (
            f"services.sh up: exit {up.returncode}\n{up.stderr}\n{system.tail()}"
        )
        # The operator's shell from here on: vetctl's own login on the run's vhost.
        operator = {
            user: system.run(BIN / "vetctl", "broker", "uri", user).stdout.strip()
            for user in ("vetctl", "operations")
        }
        system.env = {
            **env,
            "AMQP_URI": operator["vetctl"],
            "OPERATIONS_AMQP_URI": operator["operations"],
        }
        system.up = up
        yield system
    finally:
        down = system.run("bash", SCRIPT, "down", timeout=120)
        broker.delete()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert down.returncode == 0, f"services.sh down: exit {down.returncode}\n{down.stderr}"
