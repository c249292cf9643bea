"""Who is calling: signed JWTs (HS256) carried in nameko context data under ``auth_token``,
verified once per RPC, and the operator's role and counties checked against the call.

Claims: ``sub`` (operator id), ``name``, ``role``, ``counties`` (GB/T 2260 codes or
``["*"]``), ``iat``, ``exp``, ``jti`` (the token's id, a random UUID), and optionally
``stations`` (12-digit station codes, each within one of ``counties``: a station clerk's
token, limited to those stations), each of its type (``check_claims``). Secrets come from
``VET_AUTH_SECRET`` / config ``AUTH_SECRETS``, comma-separated, each at least
``MIN_SECRET_BYTES`` long: the first signs, every one verifies, so a rotated-out secret
keeps working until its tokens expire. A token whose ``jti`` is on the deny list
(``shared.denylist``) is revoked. Missing, malformed, badly signed, expired or revoked →
``Unauthorized``; valid but not allowed → ``Forbidden``."""

import functools
import re
import time
import uuid
from dataclasses import dataclass

import jwt
from nameko.extensions import DependencyProvider

from shared import denylist
from shared.errors import Forbidden, Unauthorized
from shared.jurisdiction import within_any

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
OUTSIDE_STATIONS = "a station operator writes cards only into the stations of its token"
# Other services do not know a veteran's station: a station token is refused by every RPC
# not marked ``stations=True`` (shared.messaging.Rpc), before any worker starts.
STATIONS_REGISTRY_ONLY = (
    "station tokens work in registry only, on veterans' cards; ask the county office for this"
)
# Roles that may not be limited to stations: an admin or a service sees everything.
UNSCOPED_ROLES = ("admin", "service")
CONTEXT_KEY = "auth_token"
# RFC 7518 3.2: an HS256 key of at least the hash's size. Shorter ones are refused at start.
MIN_SECRET_BYTES = 32
REQUIRED = ("sub", "role", "counties", "iat", "exp")
COUNTY_CODE = re.compile(r"[0-9]{6}")
STATION_CODE = re.compile(r"[0-9]{12}")
TOKEN_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # what a deny-list line can hold


@dataclass(frozen=True)
class Operator:
    id: str
    name: str
    role: str
    counties: tuple
    stations: tuple = ()  # empty: not limited to stations

    @property
    def all_counties(self):
        return ALL_COUNTIES in self.counties or self.role == "admin"

    def may_see(self, county_code):
        return self.all_counties or county_code in self.counties

    def may_see_card(self, county_code, station_code):
        """A veteran's card: in the operator's counties and, for a station token, at one of
        its stations (a township covers its villages; a card with no station is outside)."""
        return self.may_see(county_code) and (
            not self.stations or within_any(station_code, self.stations)
        )

    def station_scope(self):
        """The stations this operator's reads are limited to, or None for no limit."""
        return list(self.stations) if self.stations else None

    def scope(self):
        """The counties this operator's reads are limited to, or None for all."""
        return None if self.all_counties else list(self.counties)


class SecretTooShort(RuntimeError):
    """A configured secret below the minimum length: the service does not start."""


def check_secret_lengths(secrets, setting, minimum=MIN_SECRET_BYTES):
    """Raises ``SecretTooShort`` naming ``setting`` (never a secret) unless every one of
    ``secrets`` is at least ``minimum`` bytes in UTF-8."""
    short = [str(n) for n, secret in enumerate(secrets, 1) if len(secret.encode("utf-8")) < minimum]
    if short:
        which = "the secret" if len(secrets) == 1 else f"secret number {', '.join(short)}"
        raise SecretTooShort(
            f"{setting}: {which} is shorter than {minimum} bytes; every secret must be at "
            f"least {minimum} bytes (e.g. `openssl rand -hex 32`)"
        )
    return tuple(secrets)


def secrets_from(config):
    raw = config.get("AUTH_SECRETS") or ""
    secrets = [s.strip() for s in str(raw).split(",") if s.strip()]
    if not secrets:
        raise RuntimeError(
            "no token secret: set VET_AUTH_SECRET (make run/up create one "
            "under .local/ when it is unset)"
        )
    return check_secret_lengths(secrets, "VET_AUTH_SECRET (config AUTH_SECRETS)")


def issue(secret, operator_id, role, counties, name="", days=30, now=None, jti=None, stations=()):
    """A signed token; ``jti`` (its id, for revoking it alone) is a new random UUID unless
    given: read it back with ``token_id``. ``stations``: limit it to those stations."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role}; roles: {', '.join(ROLES)}")
    problem = stations_problem(list(stations), list(counties), role) if stations else None
    if problem:
        raise ValueError(f"stations {problem}")
    now = int(now if now is not None else time.time())
    claims = {
        "sub": str(operator_id),
        "name": name,
        "role": role,
        "counties": list(counties),
        "iat": now,
        "exp": now + int(days * 86400),
        "jti": jti or str(uuid.uuid4()),
    }
    if stations:
        claims["stations"] = list(stations)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def stations_problem(stations, counties, role):
    """What is wrong with a ``stations`` claim given the token's counties and role, or None:
    a non-empty list of 12-digit codes, each within one of the counties, on a role that
    can be limited."""
    if not (
        isinstance(stations, list)
        and stations
        and all(isinstance(s, str) and STATION_CODE.fullmatch(s) for s in stations)
    ):
        return "must be a non-empty list of 12-digit station codes"
    if role in UNSCOPED_ROLES:
        return f"cannot limit a token of role {role}"
    if counties != [ALL_COUNTIES] and any(s[:6] not in counties for s in stations):
        return "must each lie in one of the token's counties"
    return None


def token_id(token):
    """The ``jti`` of a token, read without verifying it (for showing, never for trusting)."""
    return jwt.decode(token, options={"verify_signature": False}).get("jti")


def _malformed(claim, rule):
    # Names the claim, never its value: a token's contents do not belong in a message.
    return Unauthorized(f"malformed token: {claim} {rule}")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_claims(claims, now):
    """Every claim of a verified token of its type, else ``Unauthorized("malformed token:
    <claim> …")``; ``iat`` not after ``now``."""
    for claim in REQUIRED:
        if claim not in claims:
            raise _malformed(claim, "is missing")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise _malformed("sub", "must be a non-empty string")
    if "name" in claims and not isinstance(claims["name"], str):
        raise _malformed("name", "must be a string")
    if not isinstance(claims["role"], str) or claims["role"] not in ROLES:
        raise _malformed("role", f"must be one of {', '.join(ROLES)}")
    counties = claims["counties"]
    if not isinstance(counties, list) or not (
        counties == [ALL_COUNTIES]
        or all(isinstance(c, str) and COUNTY_CODE.fullmatch(c) for c in counties)
    ):
        raise _malformed("counties", 'must be a list of 6-digit county codes, or ["*"]')
    if "stations" in claims:
        problem = stations_problem(claims["stations"], counties, claims["role"])
        if problem:
            raise _malformed("stations", problem)
    for claim in ("iat", "exp"):
        if not _is_int(claims[claim]):
            raise _malformed(claim, "must be an integer (seconds since the epoch)")
    if claims["iat"] > now:
        raise _malformed("iat", "is in the future")
    if "jti" in claims and not (
        isinstance(claims["jti"], str) and TOKEN_ID.fullmatch(claims["jti"])
    ):
        raise _malformed("jti", "must be a string of 1 to 64 letters, digits or . _ : -")


# PyJWT checks only the signature (and the header); check_claims checks every claim, so
# that a signed token with a claim of the wrong type is Unauthorized, never a TypeError.
_DECODE_OPTIONS: jwt.types.Options = {
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
    "verify_sub": False,
    "verify_jti": False,
}


class Verifier:
    """Verifies tokens signed with one of ``secrets`` and refuses those on ``deny_list``
    (anything answering ``jti in deny_list``; ``shared.denylist.DenyList`` reads a file).
    A token without ``jti`` (issued before tokens had one) cannot be listed: it is
    accepted until it expires."""

    def __init__(self, secrets, deny_list=frozenset()):
        self.secrets = tuple(secrets)
        self.deny_list = deny_list
        # The same token arrives with every call of a session: verify it once a minute,
        # not once per call. Expiry and revocation are still checked on every call (the
        # deny list looks at its file at most every few seconds, not per call).
        self._cached = functools.lru_cache(maxsize=4096)(self._decode)

    def verify(self, token, now=None):
        if not token or not isinstance(token, str):
            raise Unauthorized("no token: pass one in context data under auth_token")
        operator, expires, jti = self._cached(token, int(time.time() // 60))
        if (now or time.time()) >= expires:
            raise Unauthorized("token expired")
        if jti is not None and jti in self.deny_list:
            raise Unauthorized("token revoked")
        return operator

    def _decode(self, token, minute):
        claims = None
        for secret in self.secrets:
            try:
                claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options=_DECODE_OPTIONS)
                break
            except jwt.InvalidSignatureError:
                continue
            except (jwt.InvalidTokenError, TypeError, ValueError):
                raise Unauthorized("malformed token") from None
        if claims is None:
            raise Unauthorized("token signature does not verify")
        now = time.time()
        check_claims(claims, now)
        if now >= claims["exp"]:
            raise Unauthorized("token expired")
        return (
            Operator(
                claims["sub"],
                claims.get("name") or "",
                claims["role"],
                tuple(claims["counties"]),
                tuple(claims.get("stations") or ()),
            ),
            claims["exp"],
            claims.get("jti"),
        )


def require_role(operator, roles, what, stations=False):
    """``Forbidden`` unless the operator's role is among ``roles``, and, for a station
    token, unless the RPC works on stations (``stations``: registry's card RPCs)."""
    if operator.role not in roles:
        raise Forbidden(f"role {operator.role} may not call {what}")
    if operator.stations and not stations:
        raise Forbidden(STATIONS_REGISTRY_ONLY)


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

    def may_see_card(self, county_code, station_code):
        """Whether a veteran's card exists for this caller: outside their counties or, for
        a station token, their stations, it is answered exactly as a missing one."""
        return self.operator.may_see_card(county_code, station_code)

    def require_station(self, station_code):
        """For a card a station operator registers or moves: its station must be one of
        theirs (else ``Forbidden``, naming no station). No limit for other operators."""
        if self.operator.stations and not within_any(station_code, self.operator.stations):
            raise Forbidden(OUTSIDE_STATIONS)

    def scope(self):
        return self.operator.scope()

    def station_scope(self):
        return self.operator.station_scope()


def disabled(config):
    """Only ``make bench`` sets this, to measure what token checks cost; never in service."""
    return bool(config.get("AUTH_DISABLED_FOR_BENCHMARK"))


def service_operator(service):
    return Operator(f"service:{service}", service, "service", (ALL_COUNTIES,))


_service_tokens: dict[tuple[str, str], tuple[str, float]] = {}


def service_token(config, service, now=None):
    """A token of role ``service`` for calls a service makes on its own behalf (from an
    event handler or a timer), minted from the signing secret and renewed hourly."""
    now = now or time.time()
    key = (secrets_from(config)[0], service)
    cached = _service_tokens.get(key)
    if cached is None or cached[1] - now < 600:
        _service_tokens[key] = cached = (
            issue(
                key[0],
                f"service:{service}",
                "service",
                [ALL_COUNTIES],
                name=service,
                days=1 / 24,
                now=now,
            ),
            now + 3600,
        )
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


@functools.cache
def _verifier(secrets, deny_list_path):
    return Verifier(secrets, denylist.DenyList(deny_list_path))


def verifier_for(config):
    """The process's verifier for this config: raises at a service's setup when a secret
    is missing or too short."""
    return _verifier(secrets_from(config), str(denylist.path_from(config)))
