"""The outbox, the relay, the inbox and dead letters on the real RabbitMQ and PostgreSQL:
nothing is published for a change that did not commit, nothing is lost while the broker is
down, a duplicate delivery has one effect, and a poison message ends in the dead-letter
queue without holding up the others."""

import json
import subprocess
import time
from collections import Counter

import pytest
from kombu import Connection
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_hook, entrypoint_waiter
from nameko.testing.utils import get_container

from services.loans.products import load_products
from services.loans.service import LoansService
from services.registry.service import RegistryService
from shared.db import Database, Store
from shared.messaging import batch_event_handler, event_handler
from shared.messaging import rpc as rpc_entrypoint
from tests.conftest import token
from tests.factories import make_veteran, unique_id_numbers
from tests.helpers import publish, queue_depth, registered_event, scalar, wait_for


def test_a_registration_leads_to_a_stored_eligibility_assessment(start, rpc, db):
    start(RegistryService, LoansService)
    veteran = rpc.registry.register_veteran(make_veteran(willingness="business"))

    wait_for(lambda: rpc.loans.get_eligibility(veteran["id"]), message="the assessment")
    [assessment] = rpc.loans.get_eligibility(veteran["id"], "yongjun_chuangye")
    assert assessment["eligible"] is True
    assert assessment["max_amount"] == "300000.00"
    assert {c["code"] for c in assessment["criteria"]} >= {"registered_veteran", "county_listed"}
    body = wait_for(lambda: scalar(db, "SELECT body FROM loans.outbox"), message="loans' event")
    assert body["type"] == "loan_eligibility_assessed" and body["data"]["eligible"] is True
    # One flow, one correlation id: registry's RPC → registry's event → loans' event.
    registered = scalar(db, "SELECT body FROM registry.outbox")
    assert body["correlation_id"] == registered["correlation_id"] is not None


class RegistryThatFailsAfterEmitting(RegistryService):
    @rpc_entrypoint
    def register_veteran(self, data):
        super().register_veteran(data)
        raise RuntimeError("failure after the event was written")


def test_a_registration_that_rolls_back_publishes_nothing(start, rpc, db, config):
    start(RegistryThatFailsAfterEmitting, LoansService)
    with pytest.raises(RemoteError):
        rpc.registry.register_veteran(make_veteran())

    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 0
    assert scalar(db, "SELECT count(*) FROM registry.outbox") == 0
    # Nothing reached loans either: a good registration (the bulk path, which does not
    # fail) is published in order behind anything the failed one could have left, and is
    # the only one assessed.
    [good] = rpc.registry.register_veterans([make_veteran()])["results"]
    wait_for(
        lambda: scalar(db, "SELECT count(*) FROM loans.eligibility_assessments"),
        message="the good registration's assessment",
    )
    assert scalar(
        db, "SELECT array_agg(DISTINCT veteran_id::text) FROM loans.eligibility_assessments"
    ) == [good["id"]]


def test_a_commit_that_fails_is_reported_to_the_caller_and_publishes_nothing(start, rpc, db):
    start(RegistryService)
    # A deferred trigger fails at COMMIT, after the entrypoint's code has returned: the
    # caller must hear about it (the reply goes out only after the commit).
    with db.cursor() as cur:
        cur.execute("""
            CREATE FUNCTION registry.refuse() RETURNS trigger LANGUAGE plpgsql AS
              $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
            CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON registry.outbox
              DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION registry.refuse();""")
    try:
        with pytest.raises(RemoteError):
            rpc.registry.register_veteran(make_veteran())
        assert scalar(db, "SELECT count(*) FROM registry.veterans") == 0
        assert scalar(db, "SELECT count(*) FROM registry.outbox") == 0
        # The pool gave the connection back in a usable state.
        with db.cursor() as cur:
            cur.execute(
                "DROP TRIGGER refuse_at_commit ON registry.outbox; DROP FUNCTION registry.refuse()"
            )
        assert rpc.registry.register_veteran(make_veteran())["id"]
    finally:
        with db.cursor() as cur:
            cur.execute(
                "DROP TRIGGER IF EXISTS refuse_at_commit ON registry.outbox;"
                " DROP FUNCTION IF EXISTS registry.refuse()"
            )


def test_the_same_event_delivered_twice_has_one_effect(start, db, config):
    runner = start(LoansService)
    loans = get_container(runner, LoansService)
    event = registered_event()
    for _ in range(2):
        with entrypoint_waiter(loans, "on_registry_events", timeout=15):
            publish(config, event)

    assert (
        scalar(db, "SELECT count(*) FROM loans.inbox WHERE event_id = %s", event["event_id"]) == 1
    )
    # One assessment (and one announcement) per shipped product, not two.
    products = len(load_products())
    assert scalar(db, "SELECT count(*) FROM loans.eligibility_assessments") == products
    assert scalar(db, "SELECT count(*) FROM loans.outbox") == products


class Sink:
    """A consumer whose handler fails for every veteran of county 652302."""

    name = "sink"
    store = Database(Store, migrations_dir="/nonexistent")
    attempts = Counter()
    handled = []

    @event_handler("registry", "veteran_registered")
    def on_registered(self, event):
        Sink.attempts[event.event_id] += 1
        if event.data["county_code"] == "652302":
            raise RuntimeError("this handler cannot take it")
        Sink.handled.append(event.event_id)


def test_a_handler_that_always_fails_dead_letters_its_message_while_others_flow(start, config):
    Sink.attempts.clear(), Sink.handled.clear()
    start(Sink)  # DELIVERY_LIMIT is 3 in the test config
    poison = registered_event(county_code="652302")
    good = [registered_event() for _ in range(5)]
    publish(config, poison)
    for event in good:
        publish(config, event)

    wait_for(lambda: queue_depth(config, "sink.dlq") == 1, timeout=30, message="a dead letter")
    wait_for(lambda: len(Sink.handled) == 5, message="the good events")
    assert sorted(Sink.handled) == sorted(e["event_id"] for e in good)
    assert 1 < Sink.attempts[poison["event_id"]] <= 4
    with Connection(config["AMQP_URI"]) as conn:
        message = conn.default_channel.basic_get("sink.dlq", no_ack=True)
    assert json.loads(message.body)["event_id"] == poison["event_id"]
    # It carries the queue it died in, so an operator can replay it to that handler only.
    assert (
        message.delivery_info["routing_key"]
        == "evt-registry-veteran_registered--sink.on_registered"
    )


def _rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, timeout=120, stdout=subprocess.DEVNULL)


@pytest.mark.broker_outage
def test_registrations_during_a_broker_outage_all_arrive_after_it(start, db, config):
    runner = start(RegistryService, LoansService)
    registry = get_container(runner, RegistryService)
    numbers = unique_id_numbers(20)
    _rabbitmqctl("stop_app")
    try:
        for number in numbers:
            with entrypoint_hook(
                registry, "register_veteran", context_data={"auth_token": token()}
            ) as register:
                register(make_veteran(id_number=number))
        assert scalar(db, "SELECT count(*) FROM registry.veterans") == 20
        assert scalar(db, "SELECT count(*) FROM registry.outbox WHERE published_at IS NULL") == 20
    finally:
        _rabbitmqctl("start_app")
    _rabbitmqctl("await_startup")
    wait_for(
        lambda: (
            scalar(db, "SELECT count(DISTINCT veteran_id) FROM loans.eligibility_assessments") == 20
        ),
        timeout=90,
        interval=0.5,
        message="every assessment after the outage",
    )
    assert scalar(db, "SELECT count(*) FROM registry.outbox WHERE published_at IS NULL") == 0


class BatchSink:
    """A batch handler that cannot take veterans of county 652302."""

    name = "sink"
    store = Database(Store, migrations_dir="/nonexistent")
    batches = []
    handled = []

    @batch_event_handler("registry", "veteran_registered", linger=0.2)
    def on_registered(self, events):
        BatchSink.batches.append(len(events))
        if any(e.data["county_code"] == "652302" for e in events):
            raise RuntimeError("this batch holds a poison message")
        BatchSink.handled.extend(e.event_id for e in events)


def test_a_batch_handler_takes_waiting_events_together_and_once(start, config):
    BatchSink.batches.clear(), BatchSink.handled.clear()
    start(BatchSink)
    events = [registered_event() for _ in range(8)]
    for event in events + events[:3]:  # three of them delivered twice
        publish(config, event)
    last = registered_event()  # queued behind the repeats: once it is handled, they were
    publish(config, last)
    wait_for(lambda: last["event_id"] in BatchSink.handled, message="the batch")
    assert sorted(BatchSink.handled) == sorted(e["event_id"] for e in events + [last])
    assert len(BatchSink.batches) < 8  # taken together, not one worker per event


def test_a_poison_message_in_a_batch_is_dead_lettered_alone(start, config):
    BatchSink.batches.clear(), BatchSink.handled.clear()
    start(BatchSink)  # DELIVERY_LIMIT is 3 in the test config
    poison = registered_event(county_code="652302")
    good = [registered_event() for _ in range(5)]
    for event in [good[0], poison, *good[1:]]:
        publish(config, event)
    wait_for(lambda: queue_depth(config, "sink.dlq") == 1, timeout=30, message="a dead letter")
    wait_for(lambda: len(BatchSink.handled) == 5, message="the good events")
    assert sorted(BatchSink.handled) == sorted(e["event_id"] for e in good)
    with Connection(config["AMQP_URI"]) as conn:
        message = conn.default_channel.basic_get("sink.dlq", no_ack=True)
    assert json.loads(message.body)["event_id"] == poison["event_id"]


@pytest.mark.broker_outage
def test_a_broker_outage_with_rpcs_in_flight_kills_no_service(start, config):
    """The broker stopped for 10 s while 20 RPCs run: their replies cannot be sent (logged,
    dropped), consumers reconnect, and every service container lives and answers after."""
    from tests.integration.fixtures.slow_registry import SlowRegistry
    from tests.integration.vetctl.conftest import service_classes

    runner = start(SlowRegistry, *service_classes()[1:])
    registry = get_container(runner, SlowRegistry)
    proxy_context = ClusterRpcProxy(config, timeout=60)
    proxy = proxy_context.start()
    try:
        for _ in range(20):
            proxy.registry.slow.call_async(2)
        wait_for(lambda: len(registry._worker_threads) >= 10, message="workers busy")
        _rabbitmqctl("stop_app")
        outage_ends = time.monotonic() + 10
        try:  # the outage lasts 10 s: the workers finish and try to reply meanwhile
            wait_for(
                lambda: time.monotonic() >= outage_ends and not registry._worker_threads,
                timeout=30,
                interval=0.5,
                message="the workers done during the outage",
            )
        finally:
            _rabbitmqctl("start_app")
        _rabbitmqctl("await_startup")
    finally:
        try:
            proxy_context.stop()
        except Exception:  # its connection died with the broker
            pass
    assert all(not container._died.ready() for container in runner.containers)
    with ClusterRpcProxy(config, timeout=10) as fresh:
        for cls in service_classes():
            wait_for(
                lambda name=cls.name: _health(fresh, name),
                timeout=60,
                interval=0.5,
                message=f"{cls.name} answering after the outage",
            )


def _health(proxy, service):
    try:
        return getattr(proxy, service).health()["status"] == "ok"
    except Exception:
        return False
