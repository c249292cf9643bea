"""Small helpers for tests that talk to the real servers."""

import datetime as dt
import json
import subprocess
import time
import uuid

from kombu import Connection, Exchange, Producer

from shared.clock import bureau_clock
from shared.contracts.registry import VETERAN_REGISTERED


def bureau_now():
    """Now, as an aware UTC datetime, from the bureau's clock."""
    return bureau_clock().now()


def envelope(source, event_type, occurred_at=None, **data):
    """An event as the bus carries it: ``data`` from ``source``, occurred now (the bureau's
    clock) unless ``occurred_at`` says when."""
    return {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "version": 1,
        "occurred_at": (occurred_at or bureau_now()).isoformat(),
        "source": source,
        "correlation_id": uuid.uuid4().hex,
        "data": data,
    }


def bureau_today():
    """The bureau's date now (never the machine's: ``TZ`` changes nothing)."""
    return bureau_clock().today()


def days_from_today(days):
    """The bureau's today moved by ``days``, as ISO text."""
    return (bureau_today() + dt.timedelta(days=days)).isoformat()


def wait_for(predicate, timeout=15.0, interval=0.05, message="condition"):
    """Poll until ``predicate()`` is truthy; fail with ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def scalar(db, sql, *args):
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


def registered_event(veteran_id=None, event_id=None, **data):
    body = {
        "veteran_id": veteran_id or str(uuid.uuid4()),
        "county_code": "652301",
        "gender": "male",
        "birth_year": 1990,
        "discharge_type": "self_employment",
        "discharged_on": "2016-12-01",
        "skills": ["driver_b2"],
        "certificates": [],
        "willingness": "business",
        "service_needs": ["startup_loan"],
        "employment_status": "unemployed",
        "intentions": {"occupations": ["driver"], "counties": ["652301"], "min_salary": 4000},
    }
    body.update(data)
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "type": VETERAN_REGISTERED,
        "version": 1,
        "occurred_at": bureau_now().isoformat(),
        "source": "registry",
        "correlation_id": uuid.uuid4().hex,
        "data": body,
    }


def publish(config, envelope, source="registry"):
    """Publish an envelope the way the relay does, bypassing any outbox."""
    with Connection(config["AMQP_URI"]) as conn:
        exchange = Exchange(f"{source}.events", type="topic", durable=True)
        producer = Producer(conn.default_channel, exchange=exchange)
        producer.publish(
            json.dumps(envelope),
            routing_key=envelope["type"],
            declare=[exchange],
            content_type="application/json",
            delivery_mode=2,
            message_id=envelope["event_id"],
        )


def queue_depth(config, name):
    with Connection(config["AMQP_URI"]) as conn:
        return conn.default_channel.queue_declare(name, passive=True).message_count


def connected_users(vhost):
    """The broker logins with a connection to ``vhost`` (``rabbitmqctl list_connections``)."""
    rows = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "user", "vhost"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    return {row.split("\t")[0] for row in rows if row.endswith("\t" + vhost)}
