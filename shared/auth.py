"""Who is calling: signed JWTs (HS256) carried in nameko context data under ``auth_token``,
verified once per RPC, and the operator's role and counties checked against the call.

Claims: ``sub`` (operator id), ``name``, ``role``, ``counties`` (GB/T 2260 codes or
``["*"]``), ``iat``, ``exp``. Secrets come from ``VET_AUTH_SECRET`` / config
``AUTH_SECRETS``, comma-separated: the first signs, every one verifies, so a rotated-out
secret keeps working until its tokens expire. Missing, malformed, badly signed or expired
→ ``Unauthorized``; valid but not allowed → ``Forbidden``."""
import functools
import time
from dataclasses import dataclass

import jwt
from nameko.extensions import DependencyProvider

from shared.errors import Forbidden, Unauthorized

ROLES = ("admin", "prefecture", "county", "viewer", "bureau", "service")
# Who may call what, by kind of call. health() needs no token at all.
READ = frozenset({"admin", "prefecture", "county", "service"})
WRITE = READ
STATS = READ | {"viewer"}
REVEAL = frozenset({"admin", "prefecture", "county"})
ADMIN = frozenset({"admin"})
ALL_COUNTIES = "*"
ALGORITHM = "HS256"
OUTSIDE_COUNTIES = "the county named is outside this operator's counties"
CONTEXT_KEY = "auth_token"


@dataclass(frozen=True)
class Operator:
    id: str
    name: str
    role: str
    counties: tuple

    @property
    def all_counties(self):
        return ALL_COUNTIES in self.counties or self.role == "admin"

    def may_see(self, county_code):
        return self.all_counties or county_code in self.counties

    def scope(self):
        """The counties this operator's reads are limited to, or None for all."""
        return None if self.all_counties else list(self.counties)


def secrets_from(config):
    raw = config.get("AUTH_SECRETS") or ""
    secrets = [s.strip() for s in str(raw).split(",") if s.strip()]
    if not secrets:
        raise RuntimeError("no token secret: set VET_AUTH_SECRET (make run/up create one "
                           "under .local/ when it is unset)")
    return tuple(secrets)


def issue(secret, operator_id, role, counties, name="", days=30, now=None):
    if role not in ROLES:
        raise ValueError(f"unknown role {role}; roles: {', '.join(ROLES)}")
    now = int(now if now is not None else time.time())
    return jwt.encode({"sub": str(operator_id), "name": name, "role": role,
                       "counties": list(counties), "iat": now, "exp": now + int(days * 86400)},
                      secret, algorithm=ALGORITHM)


class Verifier:
    def __init__(self, secrets):
        self.secrets = tuple(secrets)
        # The same token arrives with every call of a session: verify it once a minute,
        # not once per call. Expiry is still checked on every call.
        self._cached = functools.lru_cache(maxsize=4096)(self._decode)

    def verify(self, token, now=None):
        if not token or not isinstance(token, str):
            raise Unauthorized("no token: pass one in context data under auth_token")
        operator, expires = self._cached(token, int(time.time() // 60))
        if (now or time.time()) >= expires:
            raise Unauthorized("token expired")
        return operator

    def _decode(self, token, minute):
        claims = None
        for secret in self.secrets:
            try:
                claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                                    options={"require": ["sub", "role", "counties", "iat", "exp"]})
                break
            except jwt.ExpiredSignatureError:
                raise Unauthorized("token expired") from None
            except jwt.InvalidSignatureError:
                continue
            except jwt.InvalidTokenError:
                raise Unauthorized("malformed token") from None
        if claims is None:
            raise Unauthorized("token signature does not verify")
        counties = claims["counties"]
        if claims["role"] not in ROLES or not isinstance(counties, list):
            raise Unauthorized("token has an unknown role or bad counties")
        return Operator(str(claims["sub"]), str(claims.get("name") or ""), claims["role"],
                        tuple(str(c) for c in counties)), claims["exp"]


def require_role(operator, roles, what):
    if operator.role not in roles:
        raise Forbidden(f"role {operator.role} may not call {what}")


class Caller:
    """What an entrypoint knows about who called it."""

    def __init__(self, operator):
        self.operator = operator

    def require_county(self, county_code):
        """For a county the caller names (registering into it, its statistics): the
        message names no county, so that it says nothing the caller did not send."""
        if not self.operator.may_see(county_code):
            raise Forbidden(OUTSIDE_COUNTIES)

    def may_see(self, county_code):
        """Whether a record of ``county_code`` exists for this caller: one outside their
        counties is answered exactly as a missing one (docs/architecture.md, "Privacy:
        county scope")."""
        return self.operator.may_see(county_code)

    def scope(self):
        return self.operator.scope()


def disabled(config):
    """Only ``make bench`` sets this, to measure what token checks cost; never in service."""
    return bool(config.get("AUTH_DISABLED_FOR_BENCHMARK"))


def service_operator(service):
    return Operator(f"service:{service}", service, "service", (ALL_COUNTIES,))


_service_tokens = {}


def service_token(config, service, now=None):
    """A token of role ``service`` for calls a service makes on its own behalf (from an
    event handler or a timer), minted from the signing secret and renewed hourly."""
    now = now or time.time()
    key = (secrets_from(config)[0], service)
    cached = _service_tokens.get(key)
    if cached is None or cached[1] - now < 600:
        _service_tokens[key] = cached = (
            issue(key[0], f"service:{service}", "service", [ALL_COUNTIES], name=service,
                  days=1 / 24, now=now), now + 3600)
    return cached[0]


class Auth(DependencyProvider):
    """Injects a ``Caller`` for the operator whose token came with the call. The project's
    ``rpc`` entrypoint has already refused a missing, bad or under-privileged token before
    the worker started; this provider only reads it again (from a cache)."""

    def setup(self):
        self.disabled = disabled(self.container.config)
        self.verifier = None if self.disabled else verifier_for(self.container.config)

    def get_dependency(self, worker_ctx):
        token = worker_ctx.data.get(CONTEXT_KEY)
        service = self.container.service_name
        if self.disabled:
            return Caller(service_operator(service))
        if token is None and not is_rpc(worker_ctx):
            # Event handlers and timers act as their own service, and any RPC they make
            # carries a service token (nameko passes context data on).
            worker_ctx.data[CONTEXT_KEY] = service_token(self.container.config, service)
            return Caller(service_operator(service))
        return LazyCaller(self.verifier, token)


class LazyCaller(Caller):
    def __init__(self, verifier, token):
        self._verifier, self._token, self._operator = verifier, token, None

    @property
    def operator(self):
        if self._operator is None:
            self._operator = self._verifier.verify(self._token)
        return self._operator


def is_rpc(worker_ctx):
    from nameko.rpc import Rpc
    return isinstance(worker_ctx.entrypoint, Rpc)


@functools.lru_cache(maxsize=None)
def _verifier(secrets):
    return Verifier(secrets)


def verifier_for(config):
    return _verifier(secrets_from(config))
