"""A real Prometheus (Debian's package; .ci/run installs it) on 127.0.0.1 scrapes two
running services' /metrics with deploy/prometheus/rules.yaml loaded: every metric family
reaches it, with the values the services counted, and the rules load."""

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import requests
import yaml
from nameko.testing.utils import get_container

from services.registry.service import RegistryService
from shared.probes import Probes
from tests.factories import make_veteran
from tests.helpers import publish, queue_depth, registered_event, wait_for
from tests.integration.fixtures.metered import POISON_COUNTY, Metered

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules.yaml"
PROMETHEUS = shutil.which("prometheus")
pytestmark = pytest.mark.skipif(
    PROMETHEUS is None and not os.environ.get("CI"),
    reason="prometheus not installed (apt-get install -y prometheus; .ci/run does)",
)
FAMILIES = [  # one series of each must reach Prometheus
    "up",
    "process_resident_memory_bytes",
    "vetsvc_rpc_requests_total",
    "vetsvc_rpc_duration_seconds_bucket",
    "vetsvc_events_handled_total",
    "vetsvc_events_failed_total",
    "vetsvc_events_dead_lettered_total",
    "vetsvc_event_batch_size_bucket",
    "vetsvc_outbox_backlog",
    "vetsvc_outbox_oldest_age_seconds",
    "vetsvc_relay_leader",
    "vetsvc_events_published_total",
    "vetsvc_events_unroutable_total",
    "vetsvc_dead_letter_messages",
    "vetsvc_db_pool_connections_in_use",
    "vetsvc_db_pool_connections_max",
]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def prometheus(tmp_path):
    """``start(targets)``: a Prometheus scraping ``{service: port}`` every second; its API."""
    procs = []

    def start(targets):
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [
                {
                    "job_name": "veteran-services",
                    "honor_labels": True,
                    "static_configs": [
                        {"targets": [f"127.0.0.1:{port}"], "labels": {"service": service}}
                        for service, port in targets.items()
                    ],
                }
            ],
        }
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        with open(tmp_path / "prometheus.log", "w") as log:  # the child keeps its own copy
            procs.append(
                subprocess.Popen(
                    [
                        PROMETHEUS,
                        f"--config.file={tmp_path / 'prometheus.yml'}",
                        f"--storage.tsdb.path={tmp_path / 'data'}",
                        f"--web.listen-address=127.0.0.1:{port}",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        api = f"http://127.0.0.1:{port}"

        def ready():
            try:
                return requests.get(f"{api}/-/ready", timeout=2).status_code == 200
            except requests.ConnectionError:
                assert procs[-1].poll() is None, (tmp_path / "prometheus.log").read_text()
                return False

        wait_for(ready, timeout=30, message="Prometheus ready")
        return api

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(15)


def query(api, expr):
    reply = requests.get(f"{api}/api/v1/query", params={"query": expr}, timeout=5).json()
    assert reply["status"] == "success", reply
    return reply["data"]["result"]


def test_prometheus_scrapes_every_family_from_the_running_services(start, rpc, config, prometheus):
    runner = start(Metered, RegistryService)
    sink, registry = get_container(runner, Metered), get_container(runner, RegistryService)
    for event in [registered_event(), registered_event(county_code=POISON_COUNTY)]:
        publish(config, event)
    rpc.sink.fine(), rpc.sink.fine()
    rpc.registry.register_veteran(make_veteran())
    wait_for(lambda: queue_depth(config, "sink.dlq") == 1, timeout=30, message="a dead letter")

    def port(container):
        return next(d for d in container.dependencies if isinstance(d, Probes)).port

    api = prometheus({"sink": port(sink), "registry": port(registry)})

    def families():
        found = {
            r["metric"]["__name__"]
            for r in query(api, '{__name__=~"vetsvc_.+|process_resident_memory_bytes|up"}')
        }
        return found >= set(FAMILIES) and found

    wait_for(families, timeout=30, message=f"every family in Prometheus: {FAMILIES}")

    def one(expr):
        return wait_for(lambda: query(api, expr), timeout=15, message=expr)[0]["value"][1]

    assert one('up{job="veteran-services", service="sink"}') == "1"
    assert one('vetsvc_rpc_requests_total{service="sink", method="fine", outcome="ok"}') == "2"
    assert (
        one(
            'vetsvc_events_dead_lettered_total{service="sink", handler="on_registered",'
            ' outcome="given_up"}'
        )
        == "1"
    )
    assert one('vetsvc_dead_letter_messages{service="sink", queue="sink.dlq"} > 0') == "1"
    assert one('vetsvc_events_published_total{service="registry"} > 0') == "1"
    groups = requests.get(f"{api}/api/v1/rules", timeout=5).json()["data"]["groups"]
    assert [g["name"] for g in groups] == ["veteran-services"]
    assert len(groups[0]["rules"]) == 12
