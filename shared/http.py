"""HTTP entrypoints for partners: JSON in and out, each request signed with an HMAC-SHA256
over its timestamp, method, path, canonical query and the SHA-256 of its body, bodies
capped, the worker's transaction committed before the response leaves, and every failure a
JSON error with a 4xx status (5xx only for a fault of ours).

Nothing here knows a partner: the service names its own headers and secrets' config key in
a ``SigningScheme`` and declares its endpoints with it (``scheme.signed_json``). jobs'
employment bureau (services/jobs/bureau.py), for instance, sends

    X-Bureau-Timestamp: 1764300000
    X-Bureau-Signature: sha256=<hex of HMAC-SHA256(secret, the string to sign)>

where the string to sign (``string_to_sign``) is five lines joined by LF, none after the last:

    1764300000
    GET
    /bureau/placements
    limit=100&since=0
    e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

(timestamp, method, path, canonical query, hex SHA-256 of the body: here none). A
signature is good once: the endpoint claims it (``Signed``) in its worker's transaction,
and a request bearing it again is ``Replayed`` (409).

The secrets (the scheme's config key, the bureau's ``BUREAU_HMAC_SECRETS``) are at least 32
bytes each: a shorter one stops the service at setup (``shared.auth.SecretTooShort``),
before it takes a request.

A request is checked in this order, all before a worker (and so any database work) starts:
the secret is configured, the two headers are there and the timestamp is fresh (401), the
declared length (413, nothing read), the body read up to MAX_BODY + 1 bytes (413; 408 when
it does not arrive within HTTP_BODY_TIMEOUT, shared/webserver.py), the signature over it
(401), then the JSON (400).

Over 400 lines: that order is one pipeline (scheme, signature, body limits, the JSON error
answers, the entrypoint that commits before it answers), kept in one module to read it in."""

import hashlib
import hmac
import json
import re
import time
import urllib.parse
from dataclasses import dataclass

import structlog
from nameko.exceptions import ContainerBeingKilled
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from shared.auth import check_secret_lengths
from shared.db import DatabaseUnavailable, finish_unit_of_work
from shared.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceError,
    StatementTimeout,
    Unauthorized,
)
from shared.webserver import GuardedWebServer

log = structlog.get_logger(__name__)
MAX_BODY = 1024 * 1024
MAX_SKEW = 300  # seconds a signature stays good, either way
DEFAULT_ADDRESS = "127.0.0.1:8000"  # contract; nameko's own default is 0.0.0.0:8000


class RoutedRequest(Request):
    """werkzeug's Request with the values its route matched in the path (``<id>``)."""

    path_values: dict[str, str]


class Replayed(Conflict):
    """A signature that a request has been taken with already."""

    def __init__(self):
        super().__init__(
            "this signature has been used already: a signed request is taken "
            "once; to send it again, sign it again with a new timestamp"
        )


def claim(store, table, request) -> None:
    """Takes the request's signature once, in the worker's transaction (``table`` of
    ``store``: shared.db.Store.claim_signature): a request that fails (rolled back) leaves
    no claim and may be sent again as it was; one bearing a claimed signature is
    ``Replayed`` (409)."""
    if not store.claim_signature(table, request.signed.digest, request.signed.signed_at):
        log.info("http.refused", path=request.path, status=409, reason="replayed")
        raise Replayed()
    request.signed.claimed = True


STATUS = (
    (InvalidInput, 400, "invalid_input"),
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (Replayed, 409, "replayed"),
    (Conflict, 409, "conflict"),
    (DatabaseUnavailable, 503, "unavailable"),
    (StatementTimeout, 503, "unavailable"),
    (ContainerBeingKilled, 503, "unavailable"),
)
_STAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNED = re.compile(r"^sha256=([0-9a-fA-F]{64})$")


@dataclass
class Signed:
    """A verified request's signature as the endpoint claims it (once, in its transaction):
    ``digest`` the SHA-256 of the signature's lowercase hex, ``signed_at`` its timestamp
    (unix seconds)."""

    digest: bytes
    signed_at: int
    claimed: bool = False


def forget_before():
    """Unix time before which claimed signatures may be forgotten: twice the skew window
    back, so that a replica whose clock is behind (by up to a window) still finds them."""
    return time.time() - 2 * MAX_SKEW


@dataclass(frozen=True)
class SigningScheme:
    """A partner's names for what this module signs and checks: the two headers, the config
    key of its comma-separated secrets (``secrets_env``: the environment variable that
    config reads, named in messages) and the partner, as messages call it."""

    partner: str
    timestamp_header: str
    signature_header: str
    secrets_key: str
    secrets_env: str | None = None

    @property
    def challenge(self):
        """The ``WWW-Authenticate`` of a 401."""
        return f'HMAC-SHA256 headers="{self.timestamp_header} {self.signature_header}"'

    def secrets(self, config):
        return secrets_from(config, self.secrets_key, self.secrets_env)

    def headers(self, secret, timestamp, method, path, query, body):
        """The two headers of a request signed with ``secret`` (as the partner signs)."""
        stamp = str(timestamp)
        return {
            self.timestamp_header: stamp,
            self.signature_header: signature(secret, stamp, method, path, query, body),
        }

    def check_headers(self, secrets, headers, now=None):
        """The checks that need no body: configured, both headers, a fresh timestamp."""
        stamp_name, signature_name = self.timestamp_header, self.signature_header
        if not secrets:
            raise _unauthorized(
                f"the {self.partner} integration is not configured (no "
                f"{self.secrets_env or self.secrets_key} on this service)"
            )
        stamp, given = headers.get(stamp_name), headers.get(signature_name)
        if not stamp or not given:
            raise _unauthorized(f"{stamp_name} and {signature_name} headers are required")
        if not _STAMP.match(stamp):
            raise _unauthorized(f"{stamp_name} is not a unix time in seconds")
        if abs((now if now is not None else time.time()) - int(stamp)) > MAX_SKEW:
            raise _unauthorized(f"{stamp_name} is more than {MAX_SKEW} s away from now")
        if not _SIGNED.match(given):
            raise _unauthorized(f"{signature_name} is not sha256=<64 hex digits>")

    def check_signature(self, secrets, headers, method, path, query, body):
        """Raises 401 unless one of ``secrets`` (the first signs, all verify: rotation) made
        the signature over this request (``string_to_sign``). Compared as bytes in constant
        time."""
        stamp = headers.get(self.timestamp_header)
        given = headers.get(self.signature_header).lower().encode("ascii")
        if not any(
            hmac.compare_digest(
                signature(secret, stamp, method, path, query, body).encode("ascii"), given
            )
            for secret in secrets
        ):
            raise _unauthorized(
                "the signature does not match this request (it covers the "
                "timestamp, method, path, canonical query and the body's "
                "SHA-256)"
            )

    def verify(self, secrets, headers, method, path, query, body, now=None):
        """Every check of a signed request: raises HttpError(401) unless it carries a fresh
        signature made with one of ``secrets`` over this method, path, query and body."""
        self.check_headers(secrets, headers, now)
        self.check_signature(secrets, headers, method, path, query, body)

    def signed(self, headers):
        """``Signed`` of a verified request's headers."""
        given = headers[self.signature_header].lower().encode("ascii")
        return Signed(hashlib.sha256(given).digest(), int(headers[self.timestamp_header]))

    def signed_json(self, method, url, **kwargs):
        """``signed_json`` with this scheme: the decorator of the partner's endpoints."""
        return signed_json(method, url, scheme=self, **kwargs)


class HttpError(Exception):
    def __init__(self, status, code, message, errors=None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or {}


def json_response(status, payload, headers=None):
    try:
        text = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (a JSON "\ud800" a client sent, echoed in an error): escaped
        # output is still JSON, where raw output could not be encoded at all.
        text = json.dumps(payload, ensure_ascii=True, default=str).encode("ascii")
    return Response(text, status=status, headers=headers, mimetype="application/json")


def error_response(status, code, message, errors=None, headers=None, scheme=None):
    """The JSON error; a 401 names ``scheme``'s headers in its ``WWW-Authenticate``."""
    if status == 401 and scheme is not None:
        headers = {**(headers or {}), "WWW-Authenticate": scheme.challenge}
    return json_response(
        status, {"error": code, "message": message, "errors": errors or {}}, headers
    )


def canonical_query(query):
    """The query string (``bytes`` or ``str``, without the ``?``) as it is signed: every
    ``name=value`` pair decoded (``+`` is a space, ``%XX`` a byte), then each name and value
    percent-encoded again from its bytes, all but ``A-Z a-z 0-9 - . _ ~`` as upper-case
    ``%XX``; a pair without ``=`` gets an empty value, empty pairs are dropped; the pairs
    sorted by name (a stable sort: repeated names keep their order, which the endpoint
    reads), joined by ``&``. ``""`` for no query. ``since=0&limit=100`` → ``limit=100&since=0``."""
    raw = query.encode("latin-1") if isinstance(query, str) else query  # WSGI: bytes as latin-1
    pairs = []
    for part in raw.split(b"&"):
        if part:
            name, _, value = part.partition(b"=")
            pairs.append((_reencoded(name), _reencoded(value)))
    pairs.sort(key=lambda pair: pair[0])
    return "&".join(f"{name}={value}" for name, value in pairs)


def _reencoded(raw):
    return urllib.parse.quote_from_bytes(
        urllib.parse.unquote_to_bytes(raw.replace(b"+", b" ")), safe=""
    )


def string_to_sign(timestamp, method, path, query, body):
    """What the signature covers, as bytes: five lines joined by ``\\n`` (no newline at the
    end): the timestamp header as sent, the method in upper case, the path (percent-decoded,
    as routed), ``canonical_query(query)`` and the lower-case hex SHA-256 of the raw body
    (of no bytes for a GET)."""
    return "\n".join(
        (timestamp, method.upper(), path, canonical_query(query), hashlib.sha256(body).hexdigest())
    ).encode("utf-8")


def signature(secret, timestamp, method, path, query, body):
    """``sha256=<hex>`` of HMAC-SHA256(secret, string_to_sign(...))."""
    mac = hmac.new(
        secret.encode("utf-8"), string_to_sign(timestamp, method, path, query, body), hashlib.sha256
    )
    return "sha256=" + mac.hexdigest()


def secrets_from(config, key, env=None):
    """The comma-separated secrets of config ``key`` (none: the integration is off, every
    signed request 401); raises ``SecretTooShort`` when one is under MIN_SECRET_BYTES,
    naming the key and ``env``, the environment variable it is read from."""
    raw = config.get(key) or ""
    secrets = tuple(s.strip() for s in str(raw).split(",") if s.strip())
    return check_secret_lengths(secrets, f"config {key}" + (f" ({env})" if env else ""))


def _unauthorized(message):
    return HttpError(401, "unauthorized", message)


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_json_object(body):
    """The body as a JSON object (RFC 8259: UTF-8, no NaN or Infinity) or HttpError(400)."""
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HttpError(400, "malformed_json", "the body is not JSON (UTF-8)") from None
    if not isinstance(payload, dict):
        raise HttpError(400, "malformed_json", "the body must be a JSON object")
    return payload


def read_body(environ, declared):
    """At most MAX_BODY bytes of the body; 413 before reading anything when the declared
    length is over, or as soon as a chunked body passes it. Reads the server's own input
    (eventlet's, which knows chunked bodies; werkzeug's stream reads those as empty)."""
    too_large = HttpError(413, "too_large", f"the body is over {MAX_BODY} bytes")
    if declared is not None and declared > MAX_BODY:
        raise too_large
    try:
        body = environ["wsgi.input"].read(MAX_BODY + 1)
    except TimeoutError:  # shared.webserver's body deadline (HTTP_BODY_TIMEOUT)
        raise HttpError(408, "timeout", "the body did not arrive in time") from None
    except (OSError, ValueError):
        raise HttpError(400, "bad_body", "the body could not be read") from None
    if len(body) > MAX_BODY:
        raise too_large
    return body


class JsonWsgiApp(WsgiApp):
    """nameko's, but an unknown path or method is a JSON error too (with its Allow)."""

    def __call__(self, environ, start_response):
        request = RoutedRequest(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            code = (exc.name or "error").lower().replace(" ", "_")
            headers = {k: v for k, v in exc.get_headers(environ) if k.lower() != "content-type"}
            response = error_response(
                exc.code or 400, code, exc.description or code, headers=headers
            )
        return response(environ, start_response)


class JsonWebServer(GuardedWebServer):
    """Listens on WEB_SERVER_ADDRESS, ``127.0.0.1:8000`` when unset (never every interface
    by default), with shared.webserver's limits (deadlines, a connection cap), and answers
    unknown routes in JSON."""

    @property
    def bind_addr(self):
        from nameko.web.server import parse_address

        return parse_address(self.container.config.get("WEB_SERVER_ADDRESS") or DEFAULT_ADDRESS)

    def get_wsgi_app(self):
        return JsonWsgiApp(self)


class SignedJsonHandler(HttpRequestHandler):
    """``@signed_json("POST", "/bureau/postings", scheme=BUREAU_SIGNING)`` (or
    ``@BUREAU_SIGNING.signed_json(...)``) on ``def m(self, request, payload)`` (payload: the
    JSON object of a POST/PUT/PATCH, else None) returning ``(status, dict)`` or a dict;
    ``signed=False`` for public documents. A signed endpoint claims
    ``request.signed`` in its transaction (``claimed = True``, else ``Replayed``): one that
    returns without having claimed it is answered 500 and rolled back."""

    server = JsonWebServer()
    resolves_lost_commits = True  # the caller waits: a lost COMMIT is looked up (shared.db)

    def __init__(self, method, url, scheme=None, signed=True, **kwargs):
        if signed and scheme is None:
            raise TypeError(f"{url}: a signed endpoint needs its partner's SigningScheme")
        self.scheme, self.signed = scheme, signed
        kwargs.setdefault("expected_exceptions", ServiceError)
        super().__init__(method, url, **kwargs)

    def setup(self):
        super().setup()
        self.secrets = self.scheme.secrets(self.container.config) if self.scheme else ()
        if self.signed and not self.secrets:
            log.warning("http.not_configured", url=self.url, config_key=self.scheme.secrets_key)

    def handle_request(self, request):
        request.shallow = False  # as nameko's own handler does, before reading the body
        try:
            if self.signed:
                self.scheme.check_headers(self.secrets, request.headers)
            body = read_body(request.environ, request.content_length)
            request.signed = None
            if self.signed:
                self.scheme.check_signature(
                    self.secrets,
                    request.headers,
                    request.method,
                    request.path,
                    request.environ.get("QUERY_STRING", ""),
                    body,
                )
                request.signed = self.scheme.signed(request.headers)
            request.payload = (
                parse_json_object(body) if request.method in ("POST", "PUT", "PATCH") else None
            )
        except HttpError as exc:
            log.info("http.refused", path=request.path, status=exc.status, reason=exc.code)
            return error_response(exc.status, exc.code, exc.message, exc.errors, scheme=self.scheme)
        return super().handle_request(request)

    def get_entrypoint_parameters(self, request):
        return (request, request.payload), dict(request.path_values)

    def handle_result(self, event, worker_ctx, result, exc_info):
        signed = worker_ctx.args[0].signed
        if exc_info is None and signed is not None and not signed.claimed:
            # A signed endpoint that did not claim its signature could be replayed: a fault
            # of ours, rolled back and answered 500 so that its first test finds it.
            error = RuntimeError(f"{self.url} did not claim its request's signature")
            exc_info = (RuntimeError, error, None)
        # nameko answers before its dependencies see the result: commit first, so a
        # response never confirms what a failed commit undid.
        exc_info = finish_unit_of_work(self.container, worker_ctx, exc_info)
        event.send(None if exc_info else result, exc_info)
        return result, exc_info

    def response_from_result(self, result):
        status, payload = result if isinstance(result, tuple) else (200, result)
        return json_response(status, payload)

    def response_from_exception(self, exc):
        for cls, status, code in STATUS:
            if isinstance(exc, cls):
                message = getattr(exc, "message", None) or str(exc) or code
                errors = exc.errors if isinstance(exc, InvalidInput) else None
                return error_response(status, code, message, errors, scheme=self.scheme)
        log.error(
            "http.failed",
            url=self.url,
            error=type(exc).__name__,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        return error_response(500, "internal", "the request could not be handled; it was logged")


signed_json = SignedJsonHandler.decorator
