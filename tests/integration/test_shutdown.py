"""SIGTERM under `nameko run` with RPCs in flight: every one is answered, the process exits
0 within its grace period, and none of them is delivered again (nameko 2.14 alone closes
its connection before the workers' acks and so runs them twice: shared.messaging)."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy

from tests.conftest import SECRET
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def slow_registry(config, tmp_path):
    """A registry with a slow RPC as its own `nameko run` process."""
    settings = {
        **config,
        "AUTH_SECRETS": SECRET,
        "HEALTH_ADDRESS": "127.0.0.1:0",
        "SHUTDOWN_GRACE_SECONDS": 20,
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "root": {"level": "INFO", "handlers": []},
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(json.loads(json.dumps(settings))))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nameko",
            "run",
            "--config",
            str(path),
            "tests.integration.fixtures.slow_registry:SlowRegistry",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()
    process.stderr.close()


def unacked(rabbit_manager, vhost, queue):  # the management API's figures lag ~5 s
    return rabbit_manager.get_queue(vhost, queue).get("messages_unacknowledged", 0)


def test_sigterm_answers_the_calls_in_flight_and_runs_none_twice(
    slow_registry, config, rabbit_manager
):
    with ClusterRpcProxy(config, timeout=60) as proxy:
        wait_for(lambda: _answers(proxy), timeout=60, message="the slow registry up")
        calls = [proxy.registry.slow.call_async(8) for _ in range(3)]  # management stats lag 5 s
        wait_for(
            lambda: unacked(rabbit_manager, config["vhost"], "rpc-registry") == 3,
            timeout=20,
            message="three requests in flight",
        )
        began = time.monotonic()
        slow_registry.send_signal(signal.SIGTERM)
        assert [call.result() for call in calls] == [8, 8, 8]
        assert slow_registry.wait(timeout=20) == 0
        stopped_in = time.monotonic() - began
    # Acked before the connection closed: once the broker has seen the consumer go,
    # nothing is back in the queue to run again.
    with Connection(config["AMQP_URI"]) as conn:

        def depth():
            _, messages, consumers = conn.default_channel.queue_declare(
                "rpc-registry", passive=True
            )
            return None if consumers else messages

        assert wait_for(lambda: depth() is not None, message="the consumer gone") is not None
        assert depth() == 0, "requests done before SIGTERM went back to the queue"
    assert stopped_in < 20, f"stopped in {stopped_in:.1f}s, past the grace period"


def _answers(proxy):
    try:
        return proxy.registry.health()["status"] == "ok"
    except Exception:
        return False
