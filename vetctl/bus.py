"""The event bus as operators see it: live events, dead letters (list, show, replay,
drop) and each service's queues and outbox."""

import datetime as dt
import json
import os
import time
import uuid
from contextlib import contextmanager
from urllib.parse import quote, unquote, urlparse

from kombu import Connection, Exchange, Queue

from shared.contracts.summaries import SUMMARIES
from shared.contracts.summaries import summary as timeline_summary
from vetctl.client import Failure, safe_url


def _connection(uri):
    conn = Connection(uri, connect_timeout=5)
    try:
        conn.ensure_connection(max_retries=1)
    except Exception:
        raise Failure(
            f"RabbitMQ is not reachable at {safe_url(uri)}: start it with "
            "`rabbitmq-server -detached` or set AMQP_URI"
        ) from None
    return conn


def summary(envelope):
    """One line without personal identifiers: the timeline's wording where there is one,
    else the event's ids."""
    data = envelope.get("data") or {}
    key = (envelope.get("source"), envelope.get("type"))
    if key in SUMMARIES:
        try:
            return timeline_summary(*key, data)
        except (KeyError, TypeError, AttributeError):
            pass
    return " ".join(f"{k}={str(v)[:8]}" for k, v in data.items() if k.endswith("_id") and v)


def tail(uri, sources, event_type, limit, timeout, echo):
    """Print events as they pass, from a temporary queue bound to the services'
    exchanges; stops after ``limit`` events or ``timeout`` seconds of silence (if given)."""
    seen = {"count": 0}
    with _connection(uri) as conn:
        channel = conn.channel()
        queue = Queue(
            f"vetctl.tail.{uuid.uuid4().hex[:12]}",
            exclusive=True,
            auto_delete=True,
            channel=channel,
        )
        queue.declare()
        for source in sources:
            # Looked up, not declared: the operations user may not declare (configure) a
            # service's exchange (shared/data/broker_access.yaml); broker init made them.
            exchange = Exchange(
                f"{source}.events", type="topic", durable=True, passive=True, channel=channel
            )
            exchange.declare()
            queue.bind_to(exchange, routing_key=event_type or "#")

        def on_message(body, message):
            envelope = json.loads(body) if isinstance(body, (str, bytes)) else body
            echo(envelope)
            message.ack()
            seen["count"] += 1

        with conn.Consumer(queue, callbacks=[on_message], accept=["json"]):
            last = time.monotonic()
            while limit is None or seen["count"] < limit:
                try:
                    conn.drain_events(timeout=1)
                    last = time.monotonic()
                except TimeoutError:
                    if timeout is not None and time.monotonic() - last > timeout:
                        break
                except OSError as exc:
                    if "timed out" not in str(exc):
                        raise
                    if timeout is not None and time.monotonic() - last > timeout:
                        break
    return seen["count"]


def _dead_letters(channel, service):
    """Every message in ``<service>.dlq``, taken but not acknowledged (they go back when
    the channel closes)."""
    taken: list = []
    while True:
        message = channel.basic_get(f"{service}.dlq", no_ack=False)
        if message is None:
            return taken
        taken.append(message)


def _describe(service, message):
    props = message.properties
    headers = props.get("application_headers") or {}
    deaths = headers.get("x-death") or []
    death = deaths[0] if deaths else {}
    try:
        envelope = json.loads(message.body)
    except (ValueError, TypeError, UnicodeDecodeError):  # a refused, undecodable body
        envelope = {}
    if not isinstance(envelope, dict):
        envelope = {}
    when = death.get("time")
    return {
        "id": props.get("message_id") or envelope.get("event_id"),
        "service": service,
        "queue": message.delivery_info.get("routing_key"),
        "source": envelope.get("source"),
        "type": envelope.get("type"),
        # refused at the bus boundary (shared.boundary): its own reason, never handled
        "reason": headers.get("x-refused-reason") or death.get("reason"),
        "count": death.get("count"),
        "dead_at": when.isoformat() if isinstance(when, dt.datetime) else when,
        "summary": summary(envelope) if envelope else "",
    }


@contextmanager
def _each_dead_letter(uri, services):
    """``(service, message)`` for every dead letter of ``services``, each service's taken
    on a channel of its own; what is not acknowledged goes back when the channel closes.
    A service that never started has no dead-letter queue: skipped."""

    def letters(conn):
        for service in services:
            channel = conn.channel()
            try:
                for message in _dead_letters(channel, service):
                    yield service, channel, message
            except Exception as exc:
                if "NOT_FOUND" not in str(exc):
                    raise
            finally:
                try:
                    channel.close()
                except Exception:  # the broker closed it already
                    pass

    with _connection(uri) as conn:
        yield letters(conn)


def dlq_list(uri, services):
    with _each_dead_letter(uri, services) as letters:
        return [_describe(service, message) for service, _, message in letters]


def _act(uri, services, wanted, action):
    """Find dead letters whose id is in ``wanted`` (or all when it is None) and replay or
    drop them; the others go back untouched. → descriptions of those acted on."""
    done = []
    with _each_dead_letter(uri, services) as letters:
        for service, channel, message in letters:
            described = _describe(service, message)
            if wanted is not None and described["id"] not in wanted:
                continue
            if action == "replay":
                _republish(channel, message, described["queue"])
            channel.basic_ack(message.delivery_info["delivery_tag"])
            done.append(described)
    return done


def _republish(channel, message, queue_name):
    """Back to the handler's own queue (the dead letter's routing key), through the
    default exchange, with its id and correlation; the inbox makes a replay of something
    already handled harmless."""
    import amqp

    props = dict(message.properties)
    headers = {
        k: v for k, v in (props.get("application_headers") or {}).items() if not k.startswith("x-")
    }
    republished = amqp.Message(
        message.body,
        content_type=props.get("content_type", "application/json"),
        content_encoding=props.get("content_encoding", "utf-8"),
        delivery_mode=2,
        message_id=props.get("message_id"),
        type=props.get("type"),
        application_headers=headers,
    )
    channel.basic_publish(republished, exchange="", routing_key=queue_name)


def dlq_show(uri, services, message_id):
    with _each_dead_letter(uri, services) as letters:
        for service, _, message in letters:
            described = _describe(service, message)
            if described["id"] == message_id:
                try:
                    described["envelope"] = json.loads(message.body)
                except (ValueError, TypeError):
                    described["body"] = repr(message.body[:500])
                headers = message.properties.get("application_headers") or {}
                described["headers"] = {k: v for k, v in headers.items() if k != "x-death"}
                return described
    return None


def dlq_replay(uri, services, ids):
    return _act(uri, services, ids, "replay")


def dlq_drop(uri, services, ids):
    return _act(uri, services, ids, "drop")


def management(uri):
    """(API base, auth, vhost) for RabbitMQ's management API, from the AMQP URI (the first
    node of a failover list ``amqp://a;amqp://b``; RABBIT_API names another API)."""
    parsed = urlparse(uri.split(";", 1)[0].strip().replace("pyamqp://", "amqp://"))
    base = os.environ.get("RABBIT_API", f"http://{parsed.hostname or '127.0.0.1'}:15672/api")
    vhost = unquote(parsed.path[1:]) if parsed.path and parsed.path != "/" else "/"
    return base, (unquote(parsed.username or "guest"), unquote(parsed.password or "guest")), vhost


def queue_figures(uri):
    """{queue name: (messages, consumers)} in the vhost, from the management API."""
    import requests

    base, auth, vhost = management(uri)
    try:
        reply = requests.get(f"{base}/queues/{quote(vhost, safe='')}", auth=auth, timeout=5)
        reply.raise_for_status()
    except requests.RequestException as exc:
        raise Failure(
            f"RabbitMQ's management API is not reachable at {base} "
            f"({type(exc).__name__}): `rabbitmq-plugins enable rabbitmq_management`"
            " or set RABBIT_API"
        ) from None
    return {q["name"]: (q.get("messages", 0), q.get("consumers", 0)) for q in reply.json()}


def service_queues(figures, service):
    return {
        name: counts
        for name, counts in figures.items()
        if f"--{service}." in name or name in (f"rpc-{service}", f"{service}.dlq")
    }
