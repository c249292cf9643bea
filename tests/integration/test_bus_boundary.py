"""The bus boundary on the real broker: every malformed RPC shape, sent to every service
with and without a token, is refused before a worker starts. Afterwards every container
still runs and answers, each bad message waits in its service's dead-letter queue with the
reason, a caller that can be answered got ``MalformedRequest``, and no body text reached
the logs."""

import io
import json
import logging
import uuid

import pytest
from kombu import Connection, Exchange, Producer, Queue

from shared.logging import make_handler
from tests.conftest import token
from tests.helpers import wait_for
from tests.integration.vetctl.conftest import service_classes

LIMIT = 64 * 1024  # MAX_MESSAGE_BYTES for these tests
MARKER = "王秀英-body-marker"  # in every bad body: it must never be logged
GOOD_BODY = json.dumps({"args": [], "kwargs": {}, "note": MARKER})
STACK = "nameko.call_id_stack"

SHAPES = {  # name → (body, content_type, properties, headers, can it be answered)
    "no reply_to": (GOOD_BODY, "application/json", {"reply_to": None}, {}, False),
    # A reply to "loans.get_eligibility" would be a request to loans in the caller's name.
    "reply_to another service's key": (
        GOOD_BODY,
        "application/json",
        {"reply_to": "loans.get_eligibility"},
        {},
        False,
    ),
    "no correlation_id": (GOOD_BODY, "application/json", {"correlation_id": None}, {}, False),
    "call id stack an int": (GOOD_BODY, "application/json", {}, {STACK: 7}, True),
    "call id stack of ints": (GOOD_BODY, "application/json", {}, {STACK: [1, 2]}, True),
    "call id stack too long": (GOOD_BODY, "application/json", {}, {STACK: ["a"] * 100}, True),
    "correlation id an int": (
        GOOD_BODY,
        "application/json",
        {},
        {"nameko.correlation_id": 12345},
        True,
    ),
    "correlation id with SQL": (
        GOOD_BODY,
        "application/json",
        {},
        {"nameko.correlation_id": "x'); DROP TABLE outbox;--"},
        True,
    ),
    "token an int": (GOOD_BODY, "application/json", {}, {"nameko.auth_token": 42}, True),
    "undecodable body": (
        b"\xff\xfe{" + MARKER.encode() + b"\x00",
        "application/json",
        {},
        {},
        True,
    ),
    "args not a list": (
        json.dumps({"args": {"a": MARKER}, "kwargs": {}}),
        "application/json",
        {},
        {},
        True,
    ),
    "kwargs not an object": (
        json.dumps({"args": [], "kwargs": [MARKER]}),
        "application/json",
        {},
        {},
        True,
    ),
    "body a list": (json.dumps([MARKER]), "application/json", {}, {}, True),
    "oversized body": (
        json.dumps({"args": [MARKER * (LIMIT // 10)], "kwargs": {}}),
        "application/json",
        {},
        {},
        True,
    ),
}


@pytest.fixture
def system(start):
    return start(*service_classes(), MAX_MESSAGE_BYTES=LIMIT)


@pytest.fixture
def logs():
    buffer, root = io.StringIO(), logging.getLogger()
    handler = make_handler(buffer)
    root.addHandler(handler)
    yield buffer
    root.removeHandler(handler)


def send(conn, service, body, content_type, properties, headers, reply_to):
    props = {"reply_to": reply_to, "correlation_id": uuid.uuid4().hex, **properties}
    props = {key: value for key, value in props.items() if value is not None}
    Producer(conn.default_channel).publish(
        body.encode() if isinstance(body, str) else body,
        exchange="nameko-rpc",
        routing_key=f"{service}.health",
        content_type=content_type,
        content_encoding="utf-8" if isinstance(body, str) else "binary",
        headers=headers,
        **props,
    )
    return props.get("correlation_id")


def drain(conn, queue):
    channel, got = conn.channel(), []
    while (message := channel.basic_get(queue, no_ack=True)) is not None:
        got.append(message)
    return got


def gather(conn, queue, count, into):
    """Adds what ``queue`` holds to ``into``; ``into`` once it has ``count``."""
    into.extend(drain(conn, queue))
    return into if len(into) >= count else None


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_malformed_request_is_refused_and_kills_nothing(system, rpc, config, logs, shape):
    body, content_type, properties, headers, answerable = SHAPES[shape]
    services = [cls.name for cls in service_classes()]
    reply_to = str(uuid.uuid4())  # a reply key, as nameko's clients make them
    with Connection(config["AMQP_URI"]) as conn:
        replies = Queue(
            reply_to,
            Exchange("nameko-rpc", type="topic", durable=True),
            routing_key=reply_to,
            exclusive=True,
        )
        replies(conn.default_channel).declare()
        sent = {}
        for service in services:
            for with_token in (False, True):
                extra = {"nameko.auth_token": token("admin")} if with_token else {}
                sent.setdefault(service, []).append(
                    send(
                        conn,
                        service,
                        body,
                        content_type,
                        properties,
                        {**extra, **headers},
                        reply_to,
                    )
                )
        for service in services:
            dead = []
            wait_for(
                lambda q=f"{service}.dlq", d=dead: gather(conn, q, 2, d),
                timeout=20,
                message=f"two refused requests in {service}.dlq",
            )
            assert all(m.headers["x-refused-queue"] == f"rpc-{service}" for m in dead)
            assert all(m.headers["x-refused-reason"] for m in dead)
            assert all("nameko.auth_token" not in m.headers for m in dead)  # no token kept
        if answerable:
            answers = []
            wait_for(
                lambda: gather(conn, reply_to, 2 * len(services), answers),
                message="an error reply to every request",
            )
            assert {a.properties["correlation_id"] for a in answers} == {
                c for ids in sent.values() for c in ids
            }
            assert {json.loads(a.body)["error"]["exc_type"] for a in answers} == {
                "MalformedRequest"
            }
    # Every container is alive and answers a normal call, authenticated or public.
    assert all(not container._died.ready() for container in system.containers)
    for service in services:
        assert getattr(rpc, service).health()["status"] == "ok"
    assert rpc.registry.stats()["veterans"] == 0
    text = logs.getvalue()
    assert "message.refused" in text
    assert MARKER not in text and "王秀英" not in text


def test_the_rpc_queue_is_a_quorum_queue_with_a_delivery_limit(system, rabbit_manager, config):
    for cls in service_classes():
        queue = rabbit_manager.get_queue(config["vhost"], f"rpc-{cls.name}")
        assert queue["arguments"]["x-queue-type"] == "quorum"
        assert queue["arguments"]["x-dead-letter-exchange"] == f"{cls.name}.dlx"
        assert queue["arguments"]["x-delivery-limit"] == 3  # the test config's DELIVERY_LIMIT


def test_an_event_whose_source_is_not_its_exchange_is_refused(start, config, rpc, db):
    from services.registry.service import RegistryService
    from tests.factories import make_veteran
    from tests.helpers import publish, scalar

    start(RegistryService)
    veteran = rpc.registry.register_veteran(make_veteran(employment_status="unemployed"))
    forged = {
        "event_id": str(uuid.uuid4()),
        "type": "veteran_hired",
        "version": 1,
        "occurred_at": "2026-11-02T02:00:00+00:00",
        "source": "training",  # not jobs
        "correlation_id": uuid.uuid4().hex,
        "data": {
            "application_id": str(uuid.uuid4()),
            "veteran_id": veteran["id"],
            "posting_id": str(uuid.uuid4()),
            "employer_id": str(uuid.uuid4()),
            "employer_name": "假公司",
            "county_code": "652301",
            "started_on": "2026-11-02",
            "salary": 5000,
            "channel": "referral",
        },
    }
    publish(config, forged, source="jobs")  # through jobs.events, claiming training
    with Connection(config["AMQP_URI"]) as conn:
        dead = []
        wait_for(lambda: gather(conn, "registry.dlq", 1, dead), message="the forged event")
    assert "source" in dead[0].headers["x-refused-reason"]
    assert json.loads(dead[0].body)["event_id"] == forged["event_id"]
    assert scalar(db, "SELECT employment_status FROM registry.veterans") == "unemployed"
