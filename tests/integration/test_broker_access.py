"""One broker identity per service, on the real RabbitMQ: ``vetctl broker init`` applies
shared/data/broker_access.yaml to the test's vhost (logins prefixed per test, dropped
afterwards), the services run as themselves, and every forbidden action is refused by
the broker itself (ACCESS_REFUSED), each beside the allowed action it differs from."""

import json
import os
import uuid
from types import SimpleNamespace

import amqp
import pytest
import requests
from amqp.exceptions import AccessRefused
from nameko.standalone.rpc import ClusterRpcProxy

from shared import broker_access, metrics
from tests.conftest import token
from tests.factories import make_veteran
from tests.helpers import connected_users, registered_event, wait_for
from tests.integration.vetctl.conftest import service_classes
from vetctl import broker

API = "http://127.0.0.1:15672/api"


@pytest.fixture
def users(rabbit_config, tmp_path, monkeypatch):
    """{table user: its AMQP URI} in the test's vhost, made by ``broker.init``."""
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    monkeypatch.setenv("BROKER_USER_PREFIX", prefix)
    for user in broker_access.accesses():
        monkeypatch.delenv(f"BROKER_PASSWORD_{user.upper()}", raising=False)
    admin = rabbit_config["AMQP_URI"]
    done = broker.init(uri=admin, directory=tmp_path)
    assert [login for _, login in done] == [prefix + user for user in broker_access.accesses()]
    yield {user: broker.user_uri(user, base=admin, directory=tmp_path) for user, _ in done}
    for _, login in done:
        requests.delete(f"{API}/users/{login}", auth=("guest", "guest"), timeout=5)


def connect(uri):
    """A raw py-amqp connection whose publishes wait for the broker's confirm, so a refused
    publish raises here, not on some later call."""
    login, rest = uri.split("://", 1)[1].split("@", 1)
    userid, password = login.split(":", 1)
    host, vhost = rest.split("/", 1)
    conn = amqp.Connection(
        host,
        userid=requests.utils.unquote(userid),
        password=requests.utils.unquote(password),
        virtual_host=requests.utils.unquote(vhost) or "/",
        confirm_publish=True,
    )
    conn.connect()
    return conn


def close(conn):
    try:
        conn.close()
    except Exception:  # a channel the broker closed may leave the connection half gone
        conn.collect()


def publish(conn, exchange, routing_key, body=b"{}"):
    conn.channel().basic_publish(
        amqp.Message(body, content_type="application/json"),
        exchange=exchange,
        routing_key=routing_key,
    )


def bind(conn, exchange, routing_key, queue=None):
    """Bind ``queue`` (one of the user's own), or a new reply queue as vetctl makes them."""
    channel = conn.channel()
    if queue is None:
        queue = f"rpc.reply-standalone_rpc_proxy-{uuid.uuid4()}"
        channel.queue_declare(queue, exclusive=True, auto_delete=True)
    channel.queue_bind(queue, exchange=exchange, routing_key=routing_key)


def consume(conn, queue):
    conn.channel().basic_consume(queue, callback=lambda message: None)


def started(start, users):
    """Every service, each as its own broker user."""
    return [start(cls, AMQP_URI=users[cls.name]) for cls in service_classes()]


def test_every_service_runs_as_itself_and_nobody_as_guest(start, users, config, db):
    started(start, users)
    with ClusterRpcProxy(
        {"AMQP_URI": users["vetctl"]}, timeout=15, context_data={"auth_token": token("admin")}
    ) as rpc:
        veteran = rpc.registry.register_veteran(make_veteran(willingness="business"))
        wait_for(
            lambda: rpc.loans.get_eligibility(veteran["id"]),
            timeout=20,
            message="loans' assessment, through registry's events exchange",
        )
        for cls in service_classes():
            assert getattr(rpc, cls.name).health()["status"] == "ok"
        logins = connected_users(config["vhost"])
    prefix = os.environ["BROKER_USER_PREFIX"]
    assert {prefix + cls.name for cls in service_classes()} | {prefix + "vetctl"} <= logins
    assert "guest" not in logins


# (who, what they try, the allowed action it differs from): each forbidden one must be
# refused by the broker and the allowed one must pass, so the test cannot pass by failing.
FORBIDDEN = {
    "a service publishes to another service's events exchange": (
        "registry",
        lambda c: publish(c, "loans.events", "loan_eligibility_assessed"),
        lambda c: publish(c, "registry.events", "veteran_registered"),
    ),
    "a service sends an RPC request in its name (a reply to a service's key)": (
        "registry",
        lambda c: publish(c, "nameko-rpc", "loans.get_eligibility"),
        lambda c: publish(c, "nameko-rpc", str(uuid.uuid4())),
    ),
    "a service publishes straight into another service's queue (default exchange)": (
        "registry",
        lambda c: publish(c, "", "evt-many--loans.on_registry_events"),
        lambda c: publish(c, "registry.events", "veteran_registered"),
    ),
    "a service consumes another service's RPC queue": (
        "jobs",
        lambda c: consume(c, "rpc-registry"),
        lambda c: consume(c, "rpc-jobs"),
    ),
    "a service consumes another service's handler queue": (
        "jobs",
        lambda c: consume(c, "evt-many--loans.on_registry_events"),
        lambda c: consume(c, "evt-many--jobs.on_veteran_events"),
    ),
    "a service binds nameko-rpc with another service's requests": (
        "jobs",
        lambda c: bind(c, "nameko-rpc", "registry.*", queue="rpc-jobs"),
        lambda c: bind(c, "nameko-rpc", "jobs.*", queue="rpc-jobs"),
    ),
    "a service declares (could delete) somebody else's exchange": (
        "jobs",
        lambda c: c.channel().exchange_declare(
            "registry.events", "topic", durable=True, auto_delete=False
        ),
        lambda c: c.channel().exchange_declare(
            "jobs.events", "topic", durable=True, auto_delete=False
        ),
    ),
    "a service reads its own dead letters (operations does)": (
        "registry",
        lambda c: consume(c, "registry.dlq"),
        lambda c: consume(c, "rpc-registry"),
    ),
    "the operator binds nameko-rpc with a service's requests (sniffing tokens)": (
        "vetctl",
        lambda c: bind(c, "nameko-rpc", "registry.*"),
        lambda c: bind(c, "nameko-rpc", str(uuid.uuid4())),
    ),
    "the operator binds nameko-rpc with every key": (
        "vetctl",
        lambda c: bind(c, "nameko-rpc", "#"),
        lambda c: bind(c, "nameko-rpc", str(uuid.uuid4())),
    ),
    "the operator binds an events exchange": (
        "vetctl",
        lambda c: bind(c, "registry.events", "#"),
        lambda c: bind(c, "nameko-rpc", str(uuid.uuid4())),
    ),
    "the operator publishes a forged event": (
        "vetctl",
        lambda c: publish(c, "jobs.events", "veteran_hired"),
        lambda c: publish(c, "nameko-rpc", "registry.health"),
    ),
    "the operator forges a reply": (
        "vetctl",
        lambda c: publish(c, "nameko-rpc", str(uuid.uuid4())),
        lambda c: publish(c, "nameko-rpc", "registry.health"),
    ),
    "the operator reads dead letters": (
        "vetctl",
        lambda c: consume(c, "registry.dlq"),
        lambda c: bind(c, "nameko-rpc", str(uuid.uuid4())),
    ),
    "operations calls a service": (
        "operations",
        lambda c: publish(c, "nameko-rpc", "registry.health"),
        lambda c: consume(c, "registry.dlq"),
    ),
    "operations publishes to an events exchange": (
        "operations",
        lambda c: publish(c, "registry.events", "veteran_registered"),
        lambda c: publish(c, "", "registry.dlq"),
    ),
}


@pytest.mark.parametrize("case", sorted(FORBIDDEN))
def test_the_broker_refuses(start, users, case):
    started(start, users)  # every queue declared by its owner, as in production
    who, forbidden, allowed = FORBIDDEN[case]
    conn = connect(users[who])
    try:
        allowed(conn)
        with pytest.raises(AccessRefused):
            forbidden(conn)
    finally:
        close(conn)


def test_a_forged_source_from_a_services_own_user_is_dead_lettered(start, users, config):
    started(start, users)
    forged = registered_event()
    forged["source"] = "training"  # through registry.events, claiming to be training
    conn = connect(users["registry"])
    try:
        publish(conn, "registry.events", forged["type"], json.dumps(forged).encode())
    finally:
        close(conn)
    operations = connect(users["operations"])
    try:
        dead = []

        def gather():
            channel = operations.channel()
            while (message := channel.basic_get("loans.dlq", no_ack=True)) is not None:
                dead.append(message)
            return dead

        wait_for(gather, timeout=20, message="the forged event in loans.dlq")
    finally:
        close(operations)
    assert "source" in dead[0].headers["x-refused-reason"]
    assert json.loads(dead[0].body)["event_id"] == forged["event_id"]


def test_each_service_reads_its_own_dead_letter_depth_as_itself(start, users):
    """/metrics' vetsvc_dead_letter_messages: a passive declare, which the service's own
    login may make on its dead-letter queue though it may not read it."""
    started(start, users)
    for cls in service_classes():
        depth = metrics.DeadLetterDepth(
            SimpleNamespace(service_name=cls.name, config={"AMQP_URI": users[cls.name]})
        )
        try:
            assert depth.get() == 0, cls.name  # None: refused or failed
        finally:
            depth.close()


def test_vetctl_works_as_the_operator_and_operations_users(start, users, monkeypatch):
    from click.testing import CliRunner

    from vetctl.main import cli

    started(start, users)
    monkeypatch.setenv("AMQP_URI", users["vetctl"])
    monkeypatch.setenv("OPERATIONS_AMQP_URI", users["operations"])
    monkeypatch.setenv("VETCTL_TOKEN", token("admin"))
    forged = registered_event()
    forged["source"] = "jobs"
    conn = connect(users["registry"])
    try:
        publish(conn, "registry.events", forged["type"], json.dumps(forged).encode())
    finally:
        close(conn)

    def run(*args):
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    # Every subscriber of veteran_registered refused it: loans, jobs, training, followup.
    subscribers = {"loans", "jobs", "training", "followup"}

    def listed():
        found = [
            d for d in json.loads(run("--json", "dlq", "list")) if d["id"] == forged["event_id"]
        ]
        return found if {d["service"] for d in found} >= subscribers else None

    found = wait_for(
        listed,
        timeout=20,
        message="the forged event in every subscriber's dead letters (as operations)",
    )
    assert sorted(d["service"] for d in found) == sorted(subscribers)
    assert all("source" in d["reason"] for d in found)
    assert json.loads(run("call", "registry", "health"))["status"] == "ok"  # as the operator
    replayed = json.loads(run("--json", "dlq", "replay", "--all", "--service", "loans"))
    assert [d["id"] for d in replayed] == [forged["event_id"]]
    status = json.loads(run("--json", "status"))
    assert status["registry"]["status"] == "ok"


def test_broker_init_is_idempotent_and_keeps_passwords(rabbit_config, users, tmp_path):
    before = dict(users)
    again = broker.init(uri=rabbit_config["AMQP_URI"], directory=tmp_path)
    assert {
        broker.user_uri(user, base=rabbit_config["AMQP_URI"], directory=tmp_path)
        for user, _ in again
    } == set(before.values())
    close(connect(before["registry"]))  # the old password still logs in
