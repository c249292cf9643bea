"""Tokens: issue, verify, rotation, expiry, roles and county scope, without servers."""
import time

import jwt
import pytest

from shared import auth
from shared.errors import Forbidden, Unauthorized

SECRET, OLD = "current-secret", "old-secret"


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
        verifier().verify(auth.issue("nobody-knows", "op", "admin", ["*"]))


def test_expiry_is_checked_on_every_call_even_when_cached():
    v = verifier()
    token = auth.issue(SECRET, "op", "admin", ["*"], days=1 / 86400 * 2)  # two seconds
    assert v.verify(token)
    with pytest.raises(Unauthorized):
        v.verify(token, now=time.time() + 5)


@pytest.mark.parametrize("claims", [
    {"sub": "x", "role": "admin", "iat": 1, "exp": 2 ** 40},                    # no counties
    {"sub": "x", "role": "emperor", "counties": ["*"], "iat": 1, "exp": 2 ** 40},
    {"sub": "x", "role": "admin", "counties": "*", "iat": 1, "exp": 2 ** 40},
])
def test_tokens_missing_or_bending_claims_are_unauthorized(claims):
    with pytest.raises(Unauthorized):
        verifier().verify(jwt.encode(claims, SECRET, algorithm="HS256"))


def test_a_none_algorithm_token_is_refused():
    forged = jwt.encode({"sub": "x", "role": "admin", "counties": ["*"], "iat": 1,
                         "exp": 2 ** 40}, key=None, algorithm="none")
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
    assert auth.secrets_from({"AUTH_SECRETS": " a , b ,"}) == ("a", "b")
    with pytest.raises(RuntimeError):
        auth.secrets_from({"AUTH_SECRETS": ""})


def test_a_service_token_verifies_as_role_service_for_every_county():
    token = auth.service_token({"AUTH_SECRETS": SECRET}, "loans")
    operator = verifier().verify(token)
    assert operator.role == "service" and operator.scope() is None
    assert auth.service_token({"AUTH_SECRETS": SECRET}, "loans") == token  # reused, not re-minted
