"""Structured logs: JSON lines (readable console on a terminal), a correlation id on every
line of a flow, and a processor that masks ID numbers, phone numbers, names and tokens
wherever they appear, including in nameko's and kombu's own log records."""

import contextvars
import gc
import logging
import os
import re
import sys
import unicodedata
import uuid

import structlog
from nameko.extensions import DependencyProvider

from shared.masks import mask_id_number

ID_NUMBER = re.compile(r"(?<![0-9])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9])")
# A mobile number, also as 138-1234-5678 or 138 1234 5678, after +86, 86 or 0086. Not inside
# a longer word of letters and digits: a UUID's hex ("…-18731103343d") is no phone number.
PHONE = re.compile(
    r"(?:(?<=86)|(?<![0-9A-Za-z]))(1[3-9]\d)([- ]?)\d{4}([- ]?)(\d{4})(?![0-9A-Za-z])"
)
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
SECRET_KEYS = {
    "id_number",
    "phone",
    "name",
    "auth_token",
    "token",
    "secret",
    "password",
    "contact_phone",
    "contact_name",
    "address",
    "note",
    "notes",
    "status_reason",
}
# Values of these keys in a call's arguments are masked wherever they reappear in that
# call's log lines (a name in free text cannot be told from other text by its shape).
# ("reason" is left out: in logs it is a code, http.refused's or job.closed's.)
PERSONAL_KEYS = {"name", "contact_name", "address", "note", "notes", "status_reason"}
_personal: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "personal_values", default=()
)


def mask_text(text):
    if not text.isascii():
        # full-width digits (１３８…) and other compatibility forms as their ASCII selves
        text = unicodedata.normalize("NFKC", text)
    for value in _personal.get():
        text = text.replace(value, "***")
    text = ID_NUMBER.sub(lambda found: mask_id_number(found.group(0)), text)
    text = PHONE.sub(r"\1\2****\3\4", text)
    return JWT.sub("<token>", text)


def remember_personal(*arguments):
    """Until ``forget_personal``: strings under PERSONAL_KEYS anywhere in ``arguments``
    (a call's args and kwargs) are masked in every log line, wherever they appear."""
    found = set()

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v, key)
        elif key in PERSONAL_KEYS and isinstance(value, str) and len(value.strip()) >= 2:
            found.add(value.strip())

    walk(list(arguments))
    # longest first: a name inside a longer note is replaced with the note
    return _personal.set(tuple(sorted(found, key=len, reverse=True)))


def forget_personal(handle=None):
    if handle is not None:
        _personal.reset(handle)
    else:
        _personal.set(())


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


def _add_instance(logger, method_name, event_dict):
    """``instance``: which process of a service wrote the line (``registry-2``), set by
    scripts/services.sh as SERVICE_INSTANCE when it runs replicas."""
    instance = os.environ.get("SERVICE_INSTANCE")
    if instance:
        event_dict.setdefault("instance", instance)
    return event_dict


class ExpectedErrors(logging.Filter):
    """nameko logs an entrypoint's expected error (the project's own: bad input, not found,
    forbidden) as a warning with the whole traceback and the error's message, which may
    quote what the caller sent. Here it becomes one line: the error's class, the entrypoint
    and, for bad input, the names of the fields (the values stay out)."""

    PREFIX = "(expected) error handling worker"

    def filter(self, record):
        if (
            isinstance(record.msg, str)
            and record.msg.startswith(self.PREFIX)
            and len(record.args or ()) == 2
        ):
            worker_ctx, exc = record.args
            entrypoint = getattr(worker_ctx, "entrypoint", None)
            where = (
                f"{getattr(worker_ctx, 'service_name', '?')}."
                f"{getattr(entrypoint, 'method_name', '?')}"
            )
            fields = getattr(exc, "details", None)
            named = ""
            if type(exc).__name__ == "InvalidInput" and isinstance(fields, dict):
                names = sorted(str(f)[:40] for f in fields)
                more = f" and {len(names) - 10} more" if len(names) > 10 else ""
                named = f" (fields: {', '.join(names[:10])}{more})"
            record.msg, record.args = (
                "expected error %s in %s%s",
                (type(exc).__name__, where, named),
            )
            record.exc_info = record.exc_text = None
        return True


_EXPECTED_ERRORS = ExpectedErrors()


def configure_logging(level=None, json=None, stream=None):
    """Configure structlog and route stdlib logging (nameko, kombu) through the same chain."""
    level = (level or os.environ.get("LOG_LEVEL", "INFO")).upper()
    stream = stream or sys.stderr
    if json is None:
        json = os.environ.get("LOG_FORMAT", "").lower() != "console" and not stream.isatty()
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_instance,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_pii,
    ]
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
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
    containers = logging.getLogger("nameko.containers")
    if _EXPECTED_ERRORS not in containers.filters:
        containers.addFilter(_EXPECTED_ERRORS)
    for noisy in ("kombu", "amqp", "nameko.containers"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.INFO))


def make_handler(stream, renderer=None, pre_chain=None):
    """A stdlib handler that renders through structlog, masking included."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain or [structlog.stdlib.add_log_level, mask_pii],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _mask_rendered,
            renderer or structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
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
            correlation_id=self.get_dependency(worker_ctx), call_id=worker_ctx.call_id
        )
        remember_personal(worker_ctx.args, worker_ctx.kwargs)

    def worker_teardown(self, worker_ctx):
        structlog.contextvars.clear_contextvars()
        forget_personal()
