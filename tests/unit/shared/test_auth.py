"""Tokens: issue, verify, rotation, expiry, claims' types, revocation, secrets' length,
roles and county scope, without servers."""

import time
import uuid

import jwt
import pytest

from shared import auth
from shared.errors import Forbidden, Unauthorized

SECRET, OLD = "current-secret-0123456789abcdefghij", "old-secret-0123456789abcdefghijklmn"


def verifier():
    return auth.Verifier([SECRET, OLD])


def test_a_token_round_trips_to_an_operator():
    token = auth.issue(SECRET, "op-7", "county", ["652301", "652302"], name="王芳")
    operator = verifier().verify(token)
    assert operator == auth.Operator("op-7", "王芳", "county", ("652301", "652302"))
    assert operator.may_see("652302") and not operator.may_see("652323")
    assert operator.scope() == ["652301", "652302"]


def test_star_and_admin_see_every_county():
    assert auth.Operator("a", "", "prefecture", ("*",)).scope() is None
    assert auth.Operator("a", "", "admin", ()).may_see("652328")


def test_an_old_secret_verifies_but_an_unknown_one_does_not():
    assert verifier().verify(auth.issue(OLD, "op", "admin", ["*"])).role == "admin"
    with pytest.raises(Unauthorized):
        verifier().verify(auth.issue("nobody-knows-0123456789abcdefghijkl", "op", "admin", ["*"]))


def test_expiry_is_checked_on_every_call_even_when_cached():
    v = verifier()
    token = auth.issue(SECRET, "op", "admin", ["*"], days=1 / 86400 * 2)  # two seconds
    assert v.verify(token)
    with pytest.raises(Unauthorized):
        v.verify(token, now=time.time() + 5)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "x", "role": "admin", "iat": 1, "exp": 2**40},  # no counties
        {"sub": "x", "role": "emperor", "counties": ["*"], "iat": 1, "exp": 2**40},
        {"sub": "x", "role": "admin", "counties": "*", "iat": 1, "exp": 2**40},
    ],
)
def test_tokens_missing_or_bending_claims_are_unauthorized(claims):
    with pytest.raises(Unauthorized):
        verifier().verify(jwt.encode(claims, SECRET, algorithm="HS256"))


def test_a_none_algorithm_token_is_refused():
    forged = jwt.encode(
        {"sub": "x", "role": "admin", "counties": ["*"], "iat": 1, "exp": 2**40},
        key=None,
        algorithm="none",
    )
    with pytest.raises(Unauthorized):
        verifier().verify(forged)


def test_roles_and_counties_are_enforced():
    clerk = auth.Caller(auth.Operator("c", "", "county", ("652301",)))
    clerk.require_county("652301")
    with pytest.raises(Forbidden) as refused:
        clerk.require_county("652302")
    assert "652302" not in str(refused.value)  # a message names no county the caller lacks
    assert str(refused.value) == auth.OUTSIDE_COUNTIES
    assert clerk.may_see("652301") and not clerk.may_see("652302")
    with pytest.raises(Forbidden):
        auth.require_role(auth.Operator("v", "", "viewer", ("*",)), auth.WRITE, "register")


def test_secrets_come_comma_separated_and_must_exist():
    assert auth.secrets_from({"AUTH_SECRETS": f" {SECRET} , {OLD} ,"}) == (SECRET, OLD)
    with pytest.raises(RuntimeError):
        auth.secrets_from({"AUTH_SECRETS": ""})


@pytest.mark.parametrize("raw", ["x" * 31, f"{SECRET},short", "秘" * 10])  # 10 × 3 bytes
def test_a_token_secret_under_32_bytes_is_refused_naming_the_setting_not_the_secret(raw):
    with pytest.raises(auth.SecretTooShort) as refused:
        auth.secrets_from({"AUTH_SECRETS": raw})
    message = str(refused.value)
    assert "VET_AUTH_SECRET" in message and "32 bytes" in message
    assert "short" not in message.replace("shorter", "") and "x" * 8 not in message


def test_a_token_secret_of_32_bytes_is_enough():
    assert auth.secrets_from({"AUTH_SECRETS": "x" * 32}) == ("x" * 32,)
    assert auth.secrets_from({"AUTH_SECRETS": "秘" * 11}) == ("秘" * 11,)  # 33 bytes


# -- every claim of its type: a signed token that bends one is Unauthorized, naming the
# claim and never its value.
GOOD = {
    "sub": "op-1",
    "name": "王芳",
    "role": "county",
    "counties": ["652301"],
    "iat": 1_700_000_000,
    "exp": 2**40,
    "jti": "b7c4d1e2-0000-4000-8000-000000000001",
}
SECRET_VALUE = "S3KR1T-VALUE"


def signed(**changes):
    claims = {**GOOD, **changes}
    return jwt.encode({k: v for k, v in claims.items() if v is not ...}, SECRET, algorithm="HS256")


def test_a_token_with_every_claim_of_its_type_verifies():
    operator = verifier().verify(signed())
    assert operator == auth.Operator("op-1", "王芳", "county", ("652301",))
    assert verifier().verify(signed(name=..., jti=...)).name == ""  # both optional


@pytest.mark.parametrize(
    "claim, value",
    [
        ("sub", ...),
        ("sub", ""),
        ("sub", 7),
        ("sub", None),
        ("sub", [SECRET_VALUE]),
        ("name", 7),
        ("name", None),
        ("name", [SECRET_VALUE]),
        ("role", ...),
        ("role", SECRET_VALUE),
        ("role", ["admin"]),
        ("role", None),
        ("counties", ...),
        ("counties", "*"),
        ("counties", "652301"),
        ("counties", [652301]),
        ("counties", ["65230"]),
        ("counties", ["６５２３０１"]),
        ("counties", ["*", "652301"]),
        ("counties", [SECRET_VALUE]),
        ("counties", {"652301": 1}),
        ("counties", None),
        ("iat", ...),
        ("iat", "1700000000"),
        ("iat", 1.5),
        ("iat", True),
        ("iat", None),
        ("iat", [1]),
        ("iat", 2**40),  # issued in the future
        ("exp", ...),
        ("exp", "99999999999"),
        ("exp", str(2**40)),
        ("exp", 2.0**40),
        ("exp", True),
        ("exp", None),
        ("exp", [2**40]),
        ("exp", {"at": 1}),
        ("jti", ""),
        ("jti", 7),
        ("jti", None),
        ("jti", ["a"]),
        ("jti", "a b"),
        ("jti", "x" * 65),
        ("jti", "a\nb"),
        ("jti", "a#b"),
    ],
)
def test_a_claim_of_the_wrong_type_is_unauthorized_naming_the_claim(claim, value):
    with pytest.raises(Unauthorized) as refused:
        verifier().verify(signed(**{claim: value}))
    message = str(refused.value)
    assert message.startswith(f"malformed token: {claim} ")
    assert SECRET_VALUE not in message and "1700000000" not in message


def test_a_token_whose_payload_is_not_an_object_is_unauthorized():
    from jwt.api_jws import PyJWS

    token = PyJWS().encode(b'["sub"]', SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized):
        verifier().verify(token)


def test_an_expired_token_is_unauthorized_at_its_first_check_too():
    with pytest.raises(Unauthorized, match="token expired"):
        verifier().verify(signed(iat=1_600_000_000, exp=1_600_000_100))


# -- token ids and the deny list
def test_issued_tokens_carry_a_random_uuid_as_jti():
    first, second = (auth.issue(SECRET, "op", "admin", ["*"]) for _ in range(2))
    assert uuid.UUID(auth.token_id(first)) != uuid.UUID(auth.token_id(second))
    assert auth.token_id(auth.issue(SECRET, "op", "admin", ["*"], jti="given")) == "given"


def test_a_token_on_the_deny_list_is_revoked_and_others_are_not():
    revoked, kept = (auth.issue(SECRET, "op", "admin", ["*"]) for _ in range(2))
    v = auth.Verifier([SECRET], deny_list={auth.token_id(revoked)})
    with pytest.raises(Unauthorized, match=r"^token revoked$"):
        v.verify(revoked)
    assert v.verify(kept).role == "admin"


def test_a_revoked_token_is_refused_although_its_decode_is_cached():
    token = auth.issue(SECRET, "op", "admin", ["*"])
    deny = set()
    v = auth.Verifier([SECRET], deny_list=deny)
    assert v.verify(token)  # decoded and cached for the minute
    deny.add(auth.token_id(token))
    with pytest.raises(Unauthorized, match="token revoked"):
        v.verify(token)


def test_a_token_without_jti_is_accepted_until_it_expires():
    """Tokens issued before tokens had an id cannot be listed: they live out their days
    (at most the 30 of vetctl's default); rotating the secret is what ends them sooner."""
    old_style = signed(jti=..., exp=int(time.time()) + 60)
    v = auth.Verifier([SECRET], deny_list={"anything", None, ""})
    assert v.verify(old_style).id == "op-1"
    with pytest.raises(Unauthorized, match="token expired"):
        v.verify(old_style, now=time.time() + 61)


def test_a_service_token_verifies_as_role_service_for_every_county():
    token = auth.service_token({"AUTH_SECRETS": SECRET}, "loans")
    operator = verifier().verify(token)
    assert operator.role == "service" and operator.scope() is None
    assert auth.service_token({"AUTH_SECRETS": SECRET}, "loans") == token  # reused, not re-minted


# -- station tokens --------------------------------------------------------------------------
STATION_SECRET = "station-test-secret-0123456789abcdefgh"


def _claims(**more):
    now = int(time.time())
    return {
        "sub": "clerk",
        "role": "county",
        "counties": ["652301"],
        "iat": now,
        "exp": now + 60,
        **more,
    }


@pytest.mark.parametrize(
    "stations,role,counties",
    [
        ([], "county", ["652301"]),
        ("652301001000", "county", ["652301"]),
        (["65230100100"], "county", ["652301"]),
        ([652301001000], "county", ["652301"]),
        (["652302001000"], "county", ["652301"]),  # outside the token's counties
        (["652301001000"], "admin", ["*"]),  # an admin is never limited
        (["652301001000"], "service", ["*"]),
    ],
)
def test_a_malformed_stations_claim_is_unauthorized_naming_the_claim(stations, role, counties):
    claims = _claims(stations=stations, role=role, counties=counties)
    with pytest.raises(Unauthorized, match="malformed token: stations"):
        auth.check_claims(claims, time.time())


def test_a_well_formed_stations_claim_passes_and_a_prefecture_token_may_hold_any():
    auth.check_claims(_claims(stations=["652301001000", "652301002001"]), time.time())
    auth.check_claims(_claims(stations=["652302001000"], counties=["*"]), time.time())


def test_issue_refuses_stations_outside_the_counties():
    with pytest.raises(ValueError, match="stations must each lie"):
        auth.issue(STATION_SECRET, "c", "county", ["652302"], stations=["652301001000"])


def test_a_station_operator_sees_only_cards_of_its_stations():
    token = auth.issue(
        STATION_SECRET, "c", "county", ["652301"], stations=["652301001000", "652301002001"]
    )
    operator = auth.Verifier([STATION_SECRET]).verify(token)
    assert operator.station_scope() == ["652301001000", "652301002001"]
    assert operator.may_see_card("652301", "652301001000")
    assert operator.may_see_card("652301", "652301001003")  # the township's village
    assert operator.may_see_card("652301", "652301002001")
    assert not operator.may_see_card("652301", "652301002002")
    assert not operator.may_see_card("652301", None)  # a card without a station
    assert not operator.may_see_card("652302", "652301001000")
    county = auth.Verifier([STATION_SECRET]).verify(
        auth.issue(STATION_SECRET, "c", "county", ["652301"])
    )
    assert county.station_scope() is None and county.may_see_card("652301", None)


def test_a_station_token_is_refused_by_rpcs_not_marked_for_stations():
    operator = auth.Operator("c", "", "county", ("652301",), ("652301001000",))
    with pytest.raises(Forbidden, match="station tokens work in registry only"):
        auth.require_role(operator, auth.READ, "jobs.match_jobs")
    auth.require_role(operator, auth.READ, "registry.get_card", stations=True)
    auth.require_role(auth.Operator("c", "", "county", ("652301",)), auth.READ, "jobs.stats")


def test_require_station_is_forbidden_without_naming_a_station():
    caller = auth.Caller(auth.Operator("c", "", "county", ("652301",), ("652301001001",)))
    caller.require_station("652301001001")
    for station in ("652301001002", None):
        with pytest.raises(Forbidden) as refused:
            caller.require_station(station)
        assert "6523" not in str(refused.value)
    auth.Caller(auth.Operator("c", "", "county", ("652301",))).require_station(None)
