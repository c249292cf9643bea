"""/healthz and /readyz of one process, on the real servers: ready when its consumer,
database and relay are, 503 naming what is not, and answered while every worker is busy."""

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.utils import get_container

from shared.db import Database
from shared.probes import Probes
from shared.relay import OutboxRelay
from tests.helpers import wait_for
from tests.integration.fixtures.slow_registry import SlowRegistry


def extension(container, cls):
    return next(d for d in container.dependencies if isinstance(d, cls))


def url(container, path):
    return f"http://127.0.0.1:{extension(container, Probes).port}{path}"


@pytest.fixture
def registry(start):
    return get_container(start(SlowRegistry, max_workers=2), SlowRegistry)


def test_a_running_service_is_alive_and_ready(registry):
    assert requests.get(url(registry, "/healthz"), timeout=5).json()["status"] == "alive"
    ready = wait_for(
        lambda: requests.get(url(registry, "/readyz"), timeout=5).status_code == 200,
        message="/readyz 200",
    )
    assert ready
    body = requests.get(url(registry, "/readyz"), timeout=5).json()
    assert body == {"status": "ready", "service": "registry", "problems": []}
    assert requests.get(url(registry, "/nope"), timeout=5).status_code == 404
    assert requests.post(url(registry, "/readyz"), timeout=5).status_code == 405


def test_readyz_names_a_database_that_does_not_answer_and_a_dead_relay(registry):
    database = extension(registry, Database)
    database._close_probe()
    database.pool.dsn = "postgresql://postgres@127.0.0.1:1/none"  # nothing listens there
    reply = requests.get(url(registry, "/readyz"), timeout=10)
    assert reply.status_code == 503
    assert [p for p in reply.json()["problems"] if p.startswith("database:")]
    extension(registry, OutboxRelay)._thread.kill()
    problems = requests.get(url(registry, "/readyz"), timeout=10).json()["problems"]
    assert "relay: not running" in problems
    assert requests.get(url(registry, "/healthz"), timeout=5).status_code == 200


def test_probes_answer_while_every_worker_is_busy(registry, config):
    with ClusterRpcProxy(config, timeout=30) as proxy:
        calls = [proxy.registry.slow.call_async(3) for _ in range(4)]  # 2 workers, 2 waiting
        wait_for(lambda: len(registry._worker_threads) == 2, message="both workers busy")
        assert requests.get(url(registry, "/readyz"), timeout=5).status_code == 200
        # answered while the pool was still full: it did not wait for a worker
        assert len(registry._worker_threads) == 2
        assert [call.result() for call in calls] == [3] * 4
