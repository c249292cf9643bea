"""The bus boundary: what a message must look like before a worker is spawned for it, and
what happens to one that does not (it is *refused*).

A refused message is logged without its body, copied to ``<service>.dlq`` (through
``<service>.dlx``, routing key = the queue it came from, so a replay goes back there) with
the reason in ``x-refused-reason``, answered with ``MalformedRequest`` when it is an RPC
whose ``reply_to`` and ``correlation_id`` can be trusted, and acked. No message, however
shaped, reaches nameko's code that would raise in the consumer or the responder and so
kill the container (``KeyError: 'reply_to'``, a non-list ``call_id_stack``, …).

Checked, in order: the raw body's size (before anything decodes it), that it decodes, the
AMQP properties (``reply_to`` and ``correlation_id`` short strings), the ``nameko.*``
context headers (types and sizes: ``call_id_stack`` a short list of short strings, the
auth token and correlation id strings), then the body's shape (``args`` a list, ``kwargs``
an object)."""

import json
import re

import structlog
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.exceptions import serialize
from nameko.rpc import get_rpc_exchange

from shared.errors import MalformedRequest

log = structlog.get_logger(__name__)

DEFAULT_MAX_BODY = 4 * 1024 * 1024  # a 1,000-row register_veterans is about 0.7 MB
PREFIX = "nameko."
MAX_PROPERTY = 255  # reply_to, correlation_id (an AMQP shortstr)
MAX_STACK, MAX_CALL_ID = 16, 256  # nameko keeps 10 parent calls by default
MAX_TOKEN = 8192
MAX_HEADER = 1024  # any other nameko.* context value
CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Where a reply goes: the routing key of the caller's reply queue, a UUID in every nameko
# client. Anything else ("loans.get_eligibility") would make the reply a request to another
# service; the broker refuses such a key too (shared/data/broker_access.yaml, reply_key).
REPLY_KEY = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Headers a refused message keeps in its dead-letter copy: never the caller's token.
DROPPED_HEADERS = (PREFIX + "auth_token",)


def max_body(config):
    return int(config.get("MAX_MESSAGE_BYTES") or DEFAULT_MAX_BODY)


def size_problem(raw_body, limit):
    size = len(raw_body or b"")
    if size > limit:
        return f"the body is {size} bytes, over the {limit}-byte limit"
    return None


def context_problem(headers):
    """What is wrong with a message's ``nameko.*`` context headers, or None."""
    if headers is None:
        return None
    if not isinstance(headers, dict):
        return "headers are not a table"
    for key, value in headers.items():
        if not isinstance(key, str) or not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX) :]
        if name == "call_id_stack":
            if (
                not isinstance(value, list)
                or len(value) > MAX_STACK
                or not all(isinstance(item, str) and 0 < len(item) <= MAX_CALL_ID for item in value)
            ):
                return f"header {key} must be a list of at most {MAX_STACK} short strings"
        elif name == "auth_token":
            if not isinstance(value, str) or len(value) > MAX_TOKEN:
                return f"header {key} must be a string of at most {MAX_TOKEN} characters"
        elif name == "correlation_id":
            if not isinstance(value, str) or not CORRELATION_ID.match(value):
                return f"header {key} must be 1-64 letters, digits or ._:-"
        elif value is not None and not (
            isinstance(value, (bool, int, float))
            or (isinstance(value, str) and len(value) <= MAX_HEADER)
        ):
            return f"header {key} must be a short string, a number or null"
    return None


def property_problem(properties):
    """An RPC request needs somewhere to reply and an id to reply with."""
    for name in ("reply_to", "correlation_id"):
        value = properties.get(name)
        if not isinstance(value, str) or not value or len(value) > MAX_PROPERTY:
            return f"property {name} must be a string of 1-{MAX_PROPERTY} characters"
    if not REPLY_KEY.match(properties["reply_to"]):
        return "property reply_to must be a reply key (a UUID)"
    return None


def body_problem(body):
    if not isinstance(body, dict):
        return "the body must be an object with args and kwargs"
    if not isinstance(body.get("args"), list):
        return "args must be a list"
    if not isinstance(body.get("kwargs"), dict):
        return "kwargs must be an object"
    if not all(isinstance(key, str) for key in body["kwargs"]):
        return "kwargs keys must be strings"
    return None


def rpc_problem(body, message):
    """Everything an RPC request is checked for once decoded, or None."""
    return (
        property_problem(message.properties)
        or context_problem(message.headers)
        or body_problem(body)
    )


def event_problem(body, message):
    """An event's context headers, and its envelope's ``source`` against the exchange it
    came through (``<source>.events``): a service can publish only to its own exchange, so
    an envelope naming another source is forged. The rest of the body is its contract's."""
    problem = context_problem(message.headers)
    if problem is not None:
        return problem
    exchange = (message.delivery_info or {}).get("exchange") or ""
    if (
        exchange.endswith(".events")
        and isinstance(body, dict)
        and body.get("source") != exchange[: -len(".events")]
    ):
        source = exchange[: -len(".events")]
        return f"the envelope's source is not {source}, whose exchange it came through"
    return None


def refuse(container, queue_name, message, reason, reply=False):
    """Log, dead-letter with ``reason``, answer an RPC caller if it can be answered, ack.
    Never raises: a refusal that cannot be stored falls back to a plain reject (the queue's
    own dead-letter exchange then takes the message, without the reason)."""
    service = container.service_name
    log.warning(
        "message.refused",
        service=service,
        queue=queue_name,
        reason=reason,
        routing_key=(message.delivery_info or {}).get("routing_key"),
        size=len(message.body or b""),
    )
    config = container.config
    try:
        _dead_letter(config, service, queue_name, message, reason)
        if reply and property_problem(message.properties) is None:
            _reply_error(config, message, MalformedRequest(reason))
        message.ack()
    except Exception as exc:  # the broker is going away: let it dead-letter by itself
        log.warning(
            "message.refusal_failed", service=service, queue=queue_name, error=type(exc).__name__
        )
        try:
            message.reject(requeue=False)
        except Exception:  # the channel is gone: the broker requeues it, we refuse again
            pass


def _dead_letter(config, service, queue_name, message, reason):
    headers = {
        key: value for key, value in (message.headers or {}).items() if key not in DROPPED_HEADERS
    }
    headers.update({"x-refused-reason": reason, "x-refused-queue": queue_name})
    properties = message.properties or {}
    Publisher(config[AMQP_URI_CONFIG_KEY]).publish(
        message.body,
        exchange=f"{service}.dlx",
        routing_key=queue_name,
        headers=headers,
        content_type=message.content_type or "application/octet-stream",
        content_encoding=message.content_encoding or "binary",
        correlation_id=properties.get("correlation_id")
        if isinstance(properties.get("correlation_id"), str)
        else None,
        delivery_mode=2,
        serializer=None,
        retry=False,
    )


def _reply_error(config, message, exc):
    payload = json.dumps({"result": None, "error": serialize(exc)})
    Publisher(config[AMQP_URI_CONFIG_KEY], use_confirms=False).publish(
        payload,
        exchange=get_rpc_exchange(config),
        routing_key=message.properties["reply_to"],
        correlation_id=message.properties["correlation_id"],
        content_type="application/json",
        content_encoding="utf-8",
        serializer=None,
        retry=False,
    )
