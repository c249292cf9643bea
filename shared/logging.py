"""Structured logs: JSON lines (readable console on a terminal), a correlation id on every
line of a flow, and a processor that masks ID numbers, phone numbers, names and tokens
wherever they appear, including in nameko's and kombu's own log records."""
import gc
import logging
import os
import re
import sys
import uuid

import structlog
from nameko.extensions import DependencyProvider

ID_NUMBER = re.compile(r"(?<![0-9])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# Not inside a longer word of letters and digits: a UUID's hex ("…-18731103343d") is no
# phone number.
PHONE = re.compile(r"(?:(?<=\+86)|(?<=\b86)|(?<![0-9A-Za-z]))(1[3-9]\d)\d{4}(\d{4})(?![0-9A-Za-z])")
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
SECRET_KEYS = {"id_number", "phone", "name", "auth_token", "token", "secret", "password",
               "contact_phone", "address"}


def mask_text(text):
    text = ID_NUMBER.sub(r"\1********\2", text)
    text = PHONE.sub(r"\1****\2", text)
    return JWT.sub("<token>", text)


def mask_value(key, value):
    if key in SECRET_KEYS and value not in (None, ""):
        return "***"
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(None, v) for v in value]
    return value


def mask_pii(logger, method_name, event_dict):
    """structlog processor: nothing personal leaves the process in a log line."""
    for key, value in list(event_dict.items()):
        if key == "exc_info":
            continue
        event_dict[key] = mask_value(key, value)
    return event_dict


def _mask_rendered(logger, method_name, event_dict):
    # Tracebacks are rendered text by now: mask them too.
    for key in ("exception", "stack"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = mask_text(event_dict[key])
    return event_dict


def configure_logging(level=None, json=None, stream=None):
    """Configure structlog and route stdlib logging (nameko, kombu) through the same chain."""
    level = (level or os.environ.get("LOG_LEVEL", "INFO")).upper()
    stream = stream or sys.stderr
    if json is None:
        json = os.environ.get("LOG_FORMAT", "").lower() != "console" and not stream.isatty()
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_pii,
    ]
    renderer = (structlog.processors.JSONRenderer(ensure_ascii=False) if json
                else structlog.dev.ConsoleRenderer(colors=stream.isatty()))
    structlog.configure(
        processors=shared + [structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = make_handler(stream, renderer, shared)
    handler.veteran_services = True
    root = logging.getLogger()
    # Replace only our own handler: test runners keep theirs.
    root.handlers[:] = [h for h in root.handlers if not getattr(h, "veteran_services", False)]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("kombu", "amqp", "nameko.containers"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.INFO))


def make_handler(stream, renderer=None, pre_chain=None):
    """A stdlib handler that renders through structlog, masking included."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain or [structlog.stdlib.add_log_level, mask_pii],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, _mask_rendered,
                    renderer or structlog.processors.JSONRenderer(ensure_ascii=False)],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    return handler


class RequestContext(DependencyProvider):
    """Carries one correlation id through a flow: read from the incoming message's context
    (``nameko.correlation_id`` header) or started here, bound to every log line of the
    worker, and passed on by nameko with every RPC and event this worker sends."""

    def setup(self):
        # Objects alive at start-up (modules, schemas, config) live for the whole process:
        # keep them out of the collector's full passes, which otherwise stall a worker.
        gc.freeze()
        if not getattr(RequestContext, "_configured", False):
            config = self.container.config
            configure_logging(level=config.get("LOG_LEVEL"), json=config.get("LOG_JSON"))
            RequestContext._configured = True

    def get_dependency(self, worker_ctx):
        # Injection runs before any worker_setup: make the id exist here.
        return worker_ctx.data.setdefault("correlation_id", uuid.uuid4().hex)

    def worker_setup(self, worker_ctx):
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            correlation_id=self.get_dependency(worker_ctx), call_id=worker_ctx.call_id)

    def worker_teardown(self, worker_ctx):
        structlog.contextvars.clear_contextvars()
