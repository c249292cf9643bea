"""Registering enterprises' booklets (一企一册) against the real RabbitMQ and PostgreSQL:
founders becoming self-employed, USCC checks and uniqueness, bad input."""

import uuid

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from shared.errors import Conflict, InvalidInput, NotFound
from tests.conftest import token
from tests.helpers import scalar
from tests.integration.registry.enterprises.booklets import (
    BAD_CHECK_USCC,
    UNKNOWN_ID,
    make_enterprise,
    outbox,
    valid_uscc,
)

# -- registration --------------------------------------------------------------------------


def test_registering_an_enterprise_makes_its_founder_self_employed(founder, rpc, db):
    enterprise = rpc.registry.register_enterprise(make_enterprise([founder["id"]]))

    assert rpc.registry.get_veteran(founder["id"])["employment_status"] == "self_employed"
    assert outbox(db) == [
        "veteran_registered",
        "enterprise_registered",
        "veteran_updated",
        "employment_status_changed",
    ]
    registered = outbox(db, "enterprise_registered")[0]
    status = outbox(db, "employment_status_changed")[0]["data"]
    assert (status["veteran_id"], status["previous"], status["current"], status["reason"]) == (
        founder["id"],
        "unemployed",
        "self_employed",
        "enterprise_registered",
    )
    assert status["cause_event_id"] == registered["event_id"]
    assert enterprise["founder_ids"] == [founder["id"]]


def test_enterprise_registered_carries_the_facts_and_no_names(founder, rpc, db):
    data = make_enterprise(
        [founder["id"]], federation_member=True, incubation_base="昌吉市创业孵化园", new_hires=2
    )
    enterprise = rpc.registry.register_enterprise(data)

    body = outbox(db, "enterprise_registered")[0]
    assert body["data"] == {
        "enterprise_id": enterprise["id"],
        "kind": "enterprise",
        "county_code": "652301",
        "industry": "ecommerce",
        "stage": "startup",
        "founder_ids": [founder["id"]],
        "founded_on": "2025-05-01",
        "employees": 6,
        "veteran_employees": 3,
        "new_hires": 2,
    }
    for secret in (data["name"], founder["name"], data["uscc"], data["incubation_base"]):
        assert secret not in str(body)


def test_get_enterprise_returns_the_registered_booklet_entry(founder, rpc):
    data = make_enterprise([founder["id"]], federation_member=True, incubation_base="孵化园")
    registered = rpc.registry.register_enterprise(data)

    found = rpc.registry.get_enterprise(registered["id"])
    assert found == registered
    assert {k: found[k] for k in data} == {**data, "founder_ids": [founder["id"]]}
    assert found["registered_at"] == found["updated_at"]


def test_a_lowercase_uscc_is_stored_in_its_canonical_form(founder, rpc):
    code = valid_uscc()
    enterprise = rpc.registry.register_enterprise(
        make_enterprise([founder["id"]], uscc=code.lower())
    )
    assert enterprise["uscc"] == code


def test_an_individual_business_needs_no_uscc(veterans, rpc, db):
    first, second = veterans(2)
    for veteran in (first, second):
        business = rpc.registry.register_enterprise(
            make_enterprise(
                [veteran["id"]],
                kind="individual_business",
                uscc=None,
                name="戎兵小吃店",
                industry="catering",
            )
        )
        assert business["uscc"] is None and business["kind"] == "individual_business"
    # Two businesses without a code are two businesses, not a clash.
    assert scalar(db, "SELECT count(*) FROM registry.enterprises") == 2


def test_an_enterprise_without_a_uscc_is_invalid_input(founder, rpc, db):
    with_null = make_enterprise([founder["id"]], uscc=None)
    without = {k: v for k, v in with_null.items() if k != "uscc"}
    for data in (with_null, without):
        with pytest.raises(InvalidInput) as caught:
            rpc.registry.register_enterprise(data)
        assert list(caught.value.errors) == ["uscc"]
    assert scalar(db, "SELECT count(*) FROM registry.enterprises") == 0


def test_a_founder_of_a_closed_enterprise_keeps_their_status(founder, rpc, db):
    rpc.registry.register_enterprise(make_enterprise([founder["id"]], stage="closed"))
    assert rpc.registry.get_veteran(founder["id"])["employment_status"] == "unemployed"
    assert outbox(db) == ["veteran_registered", "enterprise_registered"]


def test_an_already_self_employed_founder_gets_no_second_status_change(veterans, rpc, db):
    veteran = veterans(1, employment_status="self_employed")[0]
    rpc.registry.register_enterprise(make_enterprise([veteran["id"]]))
    assert outbox(db) == ["veteran_registered", "enterprise_registered"]


def test_a_second_registration_of_a_uscc_is_a_conflict_naming_the_first(veterans, rpc, db):
    first_founder, second_founder = veterans(2)
    data = make_enterprise([first_founder["id"]])
    first = rpc.registry.register_enterprise(data)

    with pytest.raises(Conflict) as caught:
        rpc.registry.register_enterprise(
            {**data, "name": "另一家公司", "founder_ids": [second_founder["id"]]}
        )
    assert caught.value.details == {"enterprise_id": first["id"]}
    assert scalar(db, "SELECT count(*) FROM registry.enterprises") == 1
    assert outbox(db).count("enterprise_registered") == 1
    assert rpc.registry.get_veteran(second_founder["id"])["employment_status"] == "unemployed"


def test_two_concurrent_registrations_of_one_uscc_give_one_enterprise(veterans, config, db):
    founders = veterans(2)
    code = valid_uscc()

    def register(founder):
        with ClusterRpcProxy(config, timeout=15, context_data={"auth_token": token()}) as proxy:
            try:
                return proxy.registry.register_enterprise(
                    make_enterprise([founder["id"]], uscc=code)
                )["id"]
            except Conflict as exc:
                return exc

    outcomes = [t.wait() for t in [eventlet.spawn(register, f) for f in founders]]
    winners = [o for o in outcomes if isinstance(o, str)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].details["enterprise_id"] == winners[0]
    assert scalar(db, "SELECT count(*) FROM registry.enterprises") == 1
    assert scalar(db, "SELECT count(*) FROM registry.enterprise_founders") == 1
    assert outbox(db).count("enterprise_registered") == 1
    assert outbox(db).count("employment_status_changed") == 1


# -- bad input to register_enterprise -------------------------------------------------------


def _without(field):
    return lambda f: {k: v for k, v in make_enterprise([f]).items() if k != field}


def _with(**values):
    return lambda f: make_enterprise([f], **values)


REGISTER_CASES = [
    ("missing kind", _without("kind"), "kind"),
    ("unknown kind", _with(kind="partnership"), "kind"),
    ("uscc with a bad check character", _with(uscc=BAD_CHECK_USCC), "uscc"),
    ("uscc of the wrong length", _with(uscc="91652301MA78K2Q5"), "uscc"),
    ("uscc with a letter stdnum excludes", _with(uscc="91652301MA78K2Q5O3"), "uscc"),
    ("uscc that is a number", _with(uscc=916523010000000000), "uscc"),
    ("uscc far too long", _with(uscc="9" * 500), "uscc"),
    ("missing name", _without("name"), "name"),
    ("empty name", _with(name=""), "name"),
    ("name too long", _with(name="公" * 101), "name"),
    ("county outside the jurisdiction", _with(county_code="110101"), "county_code"),
    ("unknown industry", _with(industry="piracy"), "industry"),
    ("missing industry", _without("industry"), "industry"),
    ("unknown stage", _with(stage="bankrupt"), "stage"),
    ("founded on not a date", _with(founded_on="last spring"), "founded_on"),
    ("founded in the future", _with(founded_on="2999-01-01"), "founded_on"),
    ("no founders", _with(founder_ids=[]), "founder_ids"),
    ("founders missing", _without("founder_ids"), "founder_ids"),
    ("founders not a list", lambda f: make_enterprise([], founder_ids=f), "founder_ids"),
    (
        "a founder id that is not a uuid",
        lambda f: make_enterprise([f, "not-a-uuid"]),
        "founder_ids.1",
    ),
    ("an unknown founder", lambda f: make_enterprise([f, UNKNOWN_ID]), "founder_ids.1"),
    (
        "too many founders",
        lambda f: make_enterprise([str(uuid.uuid4()) for _ in range(21)]),
        "founder_ids",
    ),
    ("negative employees", _with(employees=-1), "employees"),
    ("employees as text", _with(employees="6"), "employees"),
    (
        "more veteran employees than employees",
        _with(employees=2, veteran_employees=3),
        "veteran_employees",
    ),
    (
        "veteran employees without employees",
        _with(employees=None, veteran_employees=3),
        "employees",
    ),
    ("federation membership as text", _with(federation_member="yes"), "federation_member"),
    ("incubation base too long", _with(incubation_base="园" * 201), "incubation_base"),
    ("unknown field", _with(legal_person="张伟"), "legal_person"),
    ("payload a string", lambda f: "戎创商贸", "_schema"),
    ("payload a list", lambda f: [make_enterprise([f])], "_schema"),
    ("payload null", lambda f: None, "_schema"),
]


@pytest.mark.parametrize(
    "build,field", [c[1:] for c in REGISTER_CASES], ids=[c[0] for c in REGISTER_CASES]
)
def test_bad_registration_is_invalid_input_naming_the_field_and_writes_nothing(
    founder, rpc, db, build, field
):
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.register_enterprise(build(founder["id"]))
    assert field in caught.value.errors, caught.value.errors
    assert scalar(db, "SELECT count(*) FROM registry.enterprises") == 0
    assert outbox(db) == ["veteran_registered"]
    assert rpc.registry.get_veteran(founder["id"])["employment_status"] == "unemployed"


@pytest.mark.parametrize("call", ["get_enterprise", "get_booklet", "update_enterprise"])
def test_an_unknown_enterprise_is_not_found_and_a_malformed_id_is_invalid(registry, rpc, call):
    args = ({"stage": "operating"},) if call == "update_enterprise" else ()
    with pytest.raises(NotFound):
        getattr(rpc.registry, call)(UNKNOWN_ID, *args)
    for bad in ("not-a-uuid", None, 42):
        with pytest.raises(InvalidInput) as caught:
            getattr(rpc.registry, call)(bad, *args)
        assert list(caught.value.errors) == ["enterprise_id"]
