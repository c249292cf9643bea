"""Access control on the real servers: who may call what, in which counties, and the
audit trail of writes, reads and reveals."""

import io
import logging

import jwt
import pytest
from nameko.rpc import RpcProxy

from services.loans.service import LoansService
from services.registry.service import RegistryService
from shared.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from shared.logging import make_handler
from shared.messaging import rpc as rpc_entrypoint
from tests.conftest import OLD_SECRET, SECRET, token
from tests.factories import make_veteran
from tests.helpers import scalar, wait_for

CLERK_A = token("county", ["652301"], operator="clerk-a")  # 昌吉市 only


@pytest.fixture
def services(start):
    return start(RegistryService, LoansService)


@pytest.fixture
def veteran_in_652302(services, rpc, db):
    veteran = rpc.registry.register_veteran(make_veteran(county_code="652302"))
    wait_for(lambda: scalar(db, "SELECT count(*) FROM loans.veterans"), message="loans' projection")
    return veteran


def tampered(good):
    head, body, signature = good.split(".")
    return ".".join([head, body, ("A" if signature[0] != "A" else "B") + signature[1:]])


@pytest.mark.parametrize(
    "bad_token",
    [
        None,
        "not-a-jwt",
        tampered(token()),
        token(days=-1),  # expired
        token(secret="someone-elses-secret-0123456789abcdef"),  # wrong, 32+ bytes as PyJWT asks
        jwt.encode({"sub": "x", "role": "admin"}, SECRET, algorithm="HS256"),  # claims missing
        token(role="admin") + "x",
    ],
    ids=[
        "missing",
        "malformed",
        "tampered",
        "expired",
        "wrong secret",
        "missing claims",
        "trailing garbage",
    ],
)
def test_a_missing_or_bad_token_is_unauthorized_and_changes_nothing(
    services, rpc_as, db, bad_token
):
    with rpc_as(bad_token) as proxy:
        with pytest.raises(Unauthorized):
            proxy.registry.register_veteran(make_veteran())
        with pytest.raises(Unauthorized):
            proxy.loans.list_products()
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 0


def test_a_token_signed_with_a_rotated_out_secret_still_verifies(services, rpc_as):
    with rpc_as(token(secret=OLD_SECRET)) as proxy:
        assert proxy.registry.register_veteran(make_veteran())["id"]


def test_health_needs_no_token(services, rpc_as):
    with rpc_as(None) as proxy:
        assert proxy.registry.health()["status"] == "ok"
        assert proxy.loans.health()["status"] == "ok"


def test_a_county_clerk_works_in_their_county_only(services, rpc_as, veteran_in_652302):
    with rpc_as(CLERK_A) as clerk:
        own = clerk.registry.register_veteran(make_veteran(county_code="652301"))
        assert clerk.registry.get_veteran(own["id"])["county_code"] == "652301"
        with pytest.raises(Forbidden) as refused:
            clerk.registry.register_veteran(make_veteran(county_code="652302"))
        assert "652302" not in str(refused.value)
        # Another county's veteran is answered as one nobody registered.
        other = veteran_in_652302["id"]
        with pytest.raises(NotFound) as caught:
            clerk.registry.get_veteran(other)
        assert str(caught.value) == f"no veteran {other}"
        assert clerk.loans.get_eligibility(other) == []
        assessment = clerk.loans.check_eligibility(other, "yongjun_chuangye")
        assert not assessment["eligible"]
        assert assessment["criteria"][0] == {
            "code": "registered_veteran",
            "passed": False,
            "detail": "not found among registered veterans",
        }
        with pytest.raises(NotFound):
            clerk.registry.reveal_id_number(other, "checking a document")


def test_prefecture_staff_see_every_county(services, rpc_as, veteran_in_652302):
    with rpc_as(token("prefecture", ["*"])) as staff:
        assert staff.registry.get_veteran(veteran_in_652302["id"])["county_code"] == "652302"
        assert staff.loans.get_eligibility(veteran_in_652302["id"])


def test_a_viewer_sees_only_statistics_and_products(services, rpc_as, veteran_in_652302):
    with rpc_as(token("viewer", ["*"])) as viewer:
        assert viewer.loans.list_products()
        with pytest.raises(Forbidden):
            viewer.registry.get_veteran(veteran_in_652302["id"])
        with pytest.raises(Forbidden):
            viewer.registry.register_veteran(make_veteran())


def test_the_bureau_role_may_not_use_rpc(services, rpc_as):
    with rpc_as(token("bureau", ["*"])) as bureau:
        with pytest.raises(Forbidden):
            bureau.loans.list_products()


def test_a_reveal_returns_the_full_id_number_and_is_audited(services, rpc_as, db):
    data = make_veteran(county_code="652301")
    with rpc_as(CLERK_A) as clerk:
        veteran = clerk.registry.register_veteran(data)
        assert "*" in clerk.registry.get_veteran(veteran["id"])["id_number"]
        with pytest.raises(InvalidInput):
            clerk.registry.reveal_id_number(veteran["id"], "")
        revealed = clerk.registry.reveal_id_number(veteran["id"], "loan contract signing")
    assert revealed == {"veteran_id": veteran["id"], "id_number": data["id_number"]}
    with rpc_as(token("viewer", ["*"])) as viewer:
        with pytest.raises(Forbidden):
            viewer.registry.reveal_id_number(veteran["id"], "curious")
    with rpc_as(token("admin")) as admin:
        trail = admin.registry.audit({"operator_id": "clerk-a"})
    actions = [(e["action"], e["entity_id"], e["reason"]) for e in trail["items"]]
    assert actions == [
        ("reveal_id_number", veteran["id"], "loan contract signing"),
        ("read_card", veteran["id"], None),
        ("register_veteran", veteran["id"], None),
    ]
    assert (
        scalar(db, "SELECT created_by FROM registry.veterans WHERE id = %s", veteran["id"])
        == "clerk-a"
    )


def test_only_an_admin_reads_the_audit(services, rpc_as):
    for role in ("prefecture", "county", "viewer", "service"):
        with rpc_as(token(role, ["*"])) as proxy:
            with pytest.raises(Forbidden):
                proxy.registry.audit({})


class Gateway:
    """A service that asks loans on an operator's behalf (as jobs or vetctl will)."""

    name = "gateway"
    loans = RpcProxy("loans")

    @rpc_entrypoint
    def eligibility_of(self, veteran_id):
        return self.loans.get_eligibility(veteran_id)


def test_a_service_calling_another_keeps_the_operators_scope(start, rpc_as, veteran_in_652302):
    start(Gateway)
    with rpc_as(CLERK_A) as clerk:  # the clerk's scope: another county's veteran unknown
        assert clerk.gateway.eligibility_of(veteran_in_652302["id"]) == []
    with rpc_as(token("prefecture", ["*"])) as staff:
        assert staff.gateway.eligibility_of(veteran_in_652302["id"])


def test_no_token_or_secret_appears_in_the_logs(services, rpc_as):
    buffer, root = io.StringIO(), logging.getLogger()
    handler = make_handler(buffer)
    root.addHandler(handler)
    bad = tampered(CLERK_A)
    try:
        with rpc_as(CLERK_A) as clerk:
            clerk.registry.register_veteran(make_veteran())
            with pytest.raises(Forbidden):
                clerk.registry.register_veteran(make_veteran(county_code="652302"))
        with rpc_as(bad) as intruder:
            with pytest.raises(Unauthorized):
                intruder.registry.get_veteran("5b0c5d0e-1d2b-4f7e-9a51-3c8a43c7e0aa")
        # The registration's event goes on to loans, which acts with a service token:
        # its log lines belong to the capture too.
        wait_for(
            lambda: "eligibility.assessed" in buffer.getvalue(),
            message="loans' assessment in the logs",
        )
    finally:
        root.removeHandler(handler)
    logs = buffer.getvalue()
    assert "veteran.registered" in logs
    for secret in (CLERK_A, bad, SECRET, OLD_SECRET, CLERK_A.split(".")[1]):
        assert secret not in logs
