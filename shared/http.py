"""HTTP entrypoints for partners (the employment bureau): JSON in and out, each request
signed with an HMAC-SHA256 over timestamp and body (as webhook senders such as Stripe
sign), bodies capped, the worker's transaction committed before the response leaves, and
every failure a JSON error with a 4xx status (500 only for a fault of ours).

    X-Bureau-Timestamp: 1764300000
    X-Bureau-Signature: sha256=<hex of HMAC-SHA256(secret, "1764300000." + body)>
"""
import hashlib
import hmac
import json
import time

import structlog
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response

from shared.db import finish_unit_of_work
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized

log = structlog.get_logger(__name__)
MAX_BODY = 1024 * 1024
MAX_SKEW = 300  # seconds a signature stays good
TIMESTAMP, SIGNATURE = "X-Bureau-Timestamp", "X-Bureau-Signature"
STATUS = ((InvalidInput, 400, "invalid_input"), (Unauthorized, 401, "unauthorized"),
          (Forbidden, 403, "forbidden"), (NotFound, 404, "not_found"),
          (Conflict, 409, "conflict"))


class HttpError(Exception):
    def __init__(self, status, code, message, errors=None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or {}


def json_response(status, payload):
    return Response(json.dumps(payload, ensure_ascii=False, default=str), status=status,
                    mimetype="application/json")


def error_response(status, code, message, errors=None):
    return json_response(status, {"error": code, "message": message, "errors": errors or {}})


def signature(secret, timestamp, body):
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body,
                   hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def secrets_from(config, key):
    raw = config.get(key) or ""
    return tuple(s.strip() for s in str(raw).split(",") if s.strip())


def verify(secrets, headers, body, now=None):
    """Raises HttpError(401) unless the request carries a fresh signature made with one of
    ``secrets`` (the first signs, all verify: rotation)."""
    if not secrets:
        raise HttpError(401, "unauthorized", "the bureau integration is not configured "
                                             "(no BUREAU_HMAC_SECRET)")
    stamp, given = headers.get(TIMESTAMP), headers.get(SIGNATURE)
    if not stamp or not given:
        raise HttpError(401, "unauthorized", f"{TIMESTAMP} and {SIGNATURE} headers are required")
    try:
        at = int(stamp)
    except ValueError:
        raise HttpError(401, "unauthorized", f"{TIMESTAMP} is not a unix time") from None
    if abs((now if now is not None else time.time()) - at) > MAX_SKEW:
        raise HttpError(401, "unauthorized", f"{TIMESTAMP} is more than {MAX_SKEW} s away "
                                             "from now")
    if not any(hmac.compare_digest(signature(secret, stamp, body), given) for secret in secrets):
        raise HttpError(401, "unauthorized", "the signature does not match")


class SignedJsonHandler(HttpRequestHandler):
    """``@signed_json("POST", "/bureau/postings")`` on ``def m(self, request, payload)``
    returning ``(status, dict)`` or a dict; ``signed=False`` for public documents."""

    def __init__(self, method, url, signed=True, secrets_key="BUREAU_HMAC_SECRETS", **kwargs):
        self.signed, self.secrets_key = signed, secrets_key
        super().__init__(method, url, **kwargs)

    def setup(self):
        super().setup()
        self.secrets = secrets_from(self.container.config, self.secrets_key)

    def handle_request(self, request):
        request.shallow = False  # as nameko's own handler does, before reading the body
        try:
            body = self._body(request)
            if self.signed:
                verify(self.secrets, request.headers, body)
            request.payload = self._payload(request, body)
        except HttpError as exc:
            log.info("http.refused", path=request.path, status=exc.status, reason=exc.code)
            return error_response(exc.status, exc.code, exc.message, exc.errors)
        return super().handle_request(request)

    def get_entrypoint_parameters(self, request):
        return (request, request.payload), dict(request.path_values)

    @staticmethod
    def _body(request):
        length = request.content_length
        if length is not None and length > MAX_BODY:
            raise HttpError(413, "too_large", f"the body is over {MAX_BODY} bytes")
        body = request.stream.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise HttpError(413, "too_large", f"the body is over {MAX_BODY} bytes")
        return body

    def _payload(self, request, body):
        if request.method in ("GET", "HEAD"):
            return None
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise HttpError(400, "malformed_json", "the body is not JSON (UTF-8)") from None
        if not isinstance(payload, dict):
            raise HttpError(400, "malformed_json", "the body must be a JSON object")
        return payload

    def handle_result(self, event, worker_ctx, result, exc_info):
        # nameko answers before its dependencies see the result: commit first, so a
        # response never confirms what a failed commit undid.
        exc_info = finish_unit_of_work(self.container, worker_ctx, exc_info)
        event.send(result, exc_info)
        return result, exc_info

    def response_from_result(self, result):
        status, payload = result if isinstance(result, tuple) else (200, result)
        return json_response(status, payload)

    def response_from_exception(self, exc):
        for cls, status, code in STATUS:
            if isinstance(exc, cls):
                return error_response(status, code, getattr(exc, "message", str(exc)),
                                      getattr(exc, "errors", None) if cls is InvalidInput else None)
        log.error("http.failed", error=type(exc).__name__)
        return error_response(500, "internal", "the request could not be handled; it was logged")


signed_json = SignedJsonHandler.decorator
