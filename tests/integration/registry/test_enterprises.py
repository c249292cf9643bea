"""Enterprises' booklets (一企一册) against the real RabbitMQ and PostgreSQL: registration,
founders becoming self-employed, USCC checks and uniqueness, updates, search, the booklet
and county scope."""
import io
import logging
import random
import uuid

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from stdnum.cn import uscc as uscc_number

from services.registry.service import RegistryService
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.logging import make_handler
from tests.conftest import token
from tests.factories import make_veteran, unique_id_numbers
from tests.helpers import scalar

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CLERK_652301 = token("county", ["652301"], operator="clerk-652301")
UNKNOWN_ID = "5b0c5d0e-1d2b-4f7e-9a51-3c8a43c7e0aa"


def valid_uscc(county="652301", kind="91"):
    """A unified social credit code with the right check character (stdnum computes it)."""
    body = kind + county + "".join(random.choice(ALPHABET) for _ in range(9))
    return body + uscc_number.calc_check_digit(body)


def make_enterprise(founders, **overrides):
    data = {"kind": "enterprise", "uscc": valid_uscc(), "name": "昌吉市戎创商贸有限公司",
            "county_code": "652301", "industry": "ecommerce", "founded_on": "2025-05-01",
            "stage": "startup", "founder_ids": list(founders), "employees": 6,
            "veteran_employees": 3}
    data.update(overrides)
    return data


@pytest.fixture
def registry(start):
    return start(RegistryService)


@pytest.fixture
def veterans(registry, rpc):
    """``veterans(n, county_code=...)``: n registered veterans with distinct ID numbers."""
    def register(count=1, **overrides):
        county = overrides.get("county_code", "652301")
        return [rpc.registry.register_veteran(make_veteran(id_number=number, **overrides))
                for number in unique_id_numbers(count, county=county)]
    return register


@pytest.fixture
def founder(veterans):
    return veterans(1, name="张伟")[0]


def outbox(db, routing_key=None):
    with db.cursor() as cur:
        if routing_key:
            cur.execute("SELECT body FROM registry.outbox WHERE routing_key = %s ORDER BY id",
                        (routing_key,))
        else:
            cur.execute("SELECT routing_key FROM registry.outbox ORDER BY id")
        return [row[0] for row in cur.fetchall()]


# -- registration --------------------------------------------------------------------------

def test_registering_an_enterprise_makes_its_founder_self_employed(founder, rpc, db):
    enterprise = rpc.registry.register_enterprise(make_enterprise([founder["id"]]))

    assert rpc.registry.get_veteran(founder["id"])["employment_status"] == "self_employed"
    assert outbox(db) == ["veteran_registered", "enterprise_registered", "veteran_updated",
                          "employment_status_changed"]
    registered = outbox(db, "enterprise_registered")[0]
    status = outbox(db, "employment_status_changed")[0]["data"]
    assert (status["veteran_id"], status["previous"], status["current"], status["reason"]) == \
        (founder["id"], "unemployed", "self_employed", "enterprise_registered")
    assert status["cause_event_id"] == registered["event_id"]
    assert enterprise["founder_ids"] == [founder["id"]]


def test_enterprise_registered_carries_the_facts_and_no_names(founder, rpc, db):
    data = make_enterprise([founder["id"]], federation_member=True,
                           incubation_base="昌吉市创业孵化园")
    enterprise = rpc.registry.register_enterprise(data)

    body = outbox(db, "enterprise_registered")[0]
    assert body["data"] == {
        "enterprise_id": enterprise["id"], "kind": "enterprise", "county_code": "652301",
        "industry": "ecommerce", "stage": "startup", "founder_ids": [founder["id"]],
        "founded_on": "2025-05-01", "employees": 6, "veteran_employees": 3}
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
        make_enterprise([founder["id"]], uscc=code.lower()))
    assert enterprise["uscc"] == code


def test_an_individual_business_needs_no_uscc(veterans, rpc, db):
    first, second = veterans(2)
    for veteran in (first, second):
        business = rpc.registry.register_enterprise(make_enterprise(
            [veteran["id"]], kind="individual_business", uscc=None, name="戎兵小吃店",
            industry="catering"))
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
        rpc.registry.register_enterprise({**data, "name": "另一家公司",
                                          "founder_ids": [second_founder["id"]]})
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
                    make_enterprise([founder["id"]], uscc=code))["id"]
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

GOOD_USCC = "91652301MA78K2Q5X" + uscc_number.calc_check_digit("91652301MA78K2Q5X")
BAD_CHECK_USCC = GOOD_USCC[:17] + ("0" if GOOD_USCC[17] != "0" else "1")


def _without(field):
    return lambda f: {k: v for k, v in make_enterprise([f]).items() if k != field}


def _with(**values):
    return lambda f: make_enterprise([f], **values)


REGISTER_CASES = [
    ("missing kind", _without("kind"), "kind"),
    ("unknown kind", _with(kind="cooperative"), "kind"),
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
    ("a founder id that is not a uuid", lambda f: make_enterprise([f, "not-a-uuid"]),
     "founder_ids.1"),
    ("an unknown founder", lambda f: make_enterprise([f, UNKNOWN_ID]), "founder_ids.1"),
    ("too many founders", lambda f: make_enterprise([str(uuid.uuid4()) for _ in range(21)]),
     "founder_ids"),
    ("negative employees", _with(employees=-1), "employees"),
    ("employees as text", _with(employees="6"), "employees"),
    ("more veteran employees than employees", _with(employees=2, veteran_employees=3),
     "veteran_employees"),
    ("veteran employees without employees", _with(employees=None, veteran_employees=3),
     "employees"),
    ("federation membership as text", _with(federation_member="yes"), "federation_member"),
    ("incubation base too long", _with(incubation_base="园" * 201), "incubation_base"),
    ("unknown field", _with(legal_person="张伟"), "legal_person"),
    ("payload a string", lambda f: "戎创商贸", "_schema"),
    ("payload a list", lambda f: [make_enterprise([f])], "_schema"),
    ("payload null", lambda f: None, "_schema"),
]


@pytest.mark.parametrize("build,field", [c[1:] for c in REGISTER_CASES],
                         ids=[c[0] for c in REGISTER_CASES])
def test_bad_registration_is_invalid_input_naming_the_field_and_writes_nothing(
        founder, rpc, db, build, field):
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


# -- updates --------------------------------------------------------------------------------

@pytest.fixture
def enterprise(founder, rpc):
    return rpc.registry.register_enterprise(make_enterprise([founder["id"]]))


def test_an_update_announces_the_changed_facts_with_a_snapshot(enterprise, rpc, db):
    updated = rpc.registry.update_enterprise(enterprise["id"], {
        "stage": "operating", "employees": 10, "veteran_employees": 4, "federation_member": True})

    assert (updated["stage"], updated["employees"], updated["federation_member"]) == \
        ("operating", 10, True)
    assert rpc.registry.get_enterprise(enterprise["id"]) == updated
    body = outbox(db, "enterprise_updated")[0]["data"]
    assert body["enterprise_id"] == enterprise["id"]
    assert body["changed"] == {"stage": "operating", "employees": 10, "veteran_employees": 4,
                               "federation_member": True}
    assert body["snapshot"]["stage"] == "operating" and body["snapshot"]["employees"] == 10
    assert body["snapshot"]["founder_ids"] == enterprise["founder_ids"]
    assert scalar(db, "SELECT count(*) FROM registry.audit_log WHERE action = 'update_enterprise'"
                      " AND entity_id = %s", enterprise["id"]) == 1


def test_closing_an_enterprise_is_allowed(enterprise, rpc, db):
    closed = rpc.registry.update_enterprise(enterprise["id"], {"stage": "closed"})
    assert closed["stage"] == "closed"
    assert outbox(db, "enterprise_updated")[0]["data"]["changed"] == {"stage": "closed"}


def test_a_new_name_is_kept_and_audited_but_not_announced(enterprise, rpc, db):
    before = outbox(db)
    renamed = rpc.registry.update_enterprise(enterprise["id"],
                                             {"name": "昌吉市戎创电子商务有限公司"})
    assert renamed["name"] == "昌吉市戎创电子商务有限公司"
    assert outbox(db) == before
    assert scalar(db, "SELECT count(*) FROM registry.audit_log"
                      " WHERE action = 'update_enterprise'") == 1


def test_an_update_that_changes_nothing_writes_nothing(enterprise, rpc, db):
    before = outbox(db)
    same = rpc.registry.update_enterprise(enterprise["id"], {"stage": "startup", "employees": 6})
    assert same == enterprise
    assert outbox(db) == before
    assert scalar(db, "SELECT count(*) FROM registry.audit_log"
                      " WHERE action = 'update_enterprise'") == 0


def test_new_founders_replace_the_set_and_become_self_employed(enterprise, founder, veterans,
                                                               rpc, db):
    partner = veterans(1)[0]
    updated = rpc.registry.update_enterprise(enterprise["id"], {"founder_ids": [partner["id"]]})

    assert updated["founder_ids"] == [partner["id"]]
    assert scalar(db, "SELECT array_agg(veteran_id::text) FROM registry.enterprise_founders") == \
        [partner["id"]]
    assert rpc.registry.get_veteran(partner["id"])["employment_status"] == "self_employed"
    reasons = [b["data"]["reason"] for b in outbox(db, "employment_status_changed")]
    assert reasons == ["enterprise_registered", "enterprise_founder_added"]
    assert outbox(db, "enterprise_updated")[0]["data"]["changed"] == \
        {"founder_ids": [partner["id"]]}
    # The enterprise moves from one card to the other.
    assert rpc.registry.get_card(partner["id"])["enterprises"][0]["id"] == enterprise["id"]
    assert rpc.registry.get_card(founder["id"])["enterprises"] == []


def test_taking_another_enterprises_uscc_is_a_conflict(enterprise, founder, rpc, db):
    other = rpc.registry.register_enterprise(make_enterprise([founder["id"]], name="第二家公司"))
    before = outbox(db)
    with pytest.raises(Conflict) as caught:
        rpc.registry.update_enterprise(other["id"], {"uscc": enterprise["uscc"], "stage": "closed"})
    assert caught.value.details == {"enterprise_id": enterprise["id"]}
    assert rpc.registry.get_enterprise(other["id"]) == other
    assert outbox(db) == before


UPDATE_CASES = [
    ("unknown stage", {"stage": "bankrupt"}, "stage"),
    ("uscc removed from an enterprise", {"uscc": None}, "uscc"),
    ("uscc with a bad check character", {"uscc": BAD_CHECK_USCC}, "uscc"),
    ("more veteran employees than employees", {"veteran_employees": 7}, "veteran_employees"),
    ("fewer employees than veteran employees", {"employees": 2}, "veteran_employees"),
    ("no founders", {"founder_ids": []}, "founder_ids"),
    ("an unknown founder", {"founder_ids": [UNKNOWN_ID]}, "founder_ids.0"),
    ("county outside the jurisdiction", {"county_code": "110101"}, "county_code"),
    ("founded in the future", {"founded_on": "2999-01-01"}, "founded_on"),
    ("unknown kind", {"kind": "cooperative"}, "kind"),
    ("empty name", {"name": ""}, "name"),
    ("the id", {"id": UNKNOWN_ID}, "id"),
    ("payload a string", "closed", "_schema"),
    ("payload null", None, "_schema"),
]


@pytest.mark.parametrize("data,field", [c[1:] for c in UPDATE_CASES],
                         ids=[c[0] for c in UPDATE_CASES])
def test_a_bad_update_is_invalid_input_and_changes_nothing(enterprise, rpc, db, data, field):
    before = outbox(db)
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.update_enterprise(enterprise["id"], data)
    assert field in caught.value.errors, caught.value.errors
    assert rpc.registry.get_enterprise(enterprise["id"]) == enterprise
    assert outbox(db) == before


def test_an_individual_business_may_become_an_enterprise_with_a_uscc(founder, rpc):
    business = rpc.registry.register_enterprise(make_enterprise(
        [founder["id"]], kind="individual_business", uscc=None))
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.update_enterprise(business["id"], {"kind": "enterprise"})
    assert list(caught.value.errors) == ["uscc"]
    code = valid_uscc()
    grown = rpc.registry.update_enterprise(business["id"], {"kind": "enterprise", "uscc": code})
    assert (grown["kind"], grown["uscc"]) == ("enterprise", code)


# -- card and booklet -----------------------------------------------------------------------

def test_the_founders_card_lists_the_enterprise(enterprise, founder, rpc):
    card = rpc.registry.get_card(founder["id"])
    assert card["enterprises"] == [enterprise]
    assert card["veteran"]["employment_status"] == "self_employed"
    assert "enterprise_registered" in [e["type"] for e in card["timeline"]]


def test_the_booklet_shows_the_enterprise_its_founders_and_its_timeline(enterprise, founder, rpc):
    updated = rpc.registry.update_enterprise(enterprise["id"], {"stage": "operating"})
    booklet = rpc.registry.get_booklet(enterprise["id"])

    assert booklet["enterprise"] == updated
    assert booklet["founders"] == [{"id": founder["id"], "name": "张伟", "county_code": "652301",
                                    "employment_status": "self_employed"}]
    assert [e["type"] for e in booklet["timeline"]] == ["enterprise_updated",
                                                        "enterprise_registered"]
    assert booklet["timeline"][1]["summary"] == "enterprise registered: ecommerce, stage startup"
    assert booklet["timeline"][0]["summary"] == "booklet updated: stage"
    assert isinstance(booklet["timeline"][0]["at"], str)


# -- search ---------------------------------------------------------------------------------

@pytest.fixture
def four(founder, rpc):
    """Four enterprises, registered in this order."""
    f = [founder["id"]]
    return [rpc.registry.register_enterprise(data) for data in (
        make_enterprise(f, name="昌吉市戎创商贸有限公司", industry="ecommerce", stage="startup"),
        make_enterprise(f, name="老兵物流", industry="logistics", stage="operating",
                        federation_member=True),
        make_enterprise(f, kind="individual_business", uscc=None, name="戎兵小吃店",
                        industry="catering", stage="operating"),
        make_enterprise(f, name="阜康市戎装物流有限公司", county_code="652302",
                        industry="logistics", stage="closed"),
    )]


@pytest.mark.parametrize("filters,expected", [
    (None, [0, 1, 2, 3]),
    ({}, [0, 1, 2, 3]),
    ({"kind": "individual_business"}, [2]),
    ({"stage": "operating"}, [1, 2]),
    ({"industry": "logistics"}, [1, 3]),
    ({"federation_member": True}, [1]),
    ({"federation_member": False}, [0, 2, 3]),
    ({"name": "物流"}, [1, 3]),
    ({"name": "%"}, []),  # a literal percent sign, not a wildcard
    ({"county_code": "652302"}, [3]),
    ({"county_code": "652301", "industry": "logistics"}, [1]),
])
def test_search_filters_in_the_order_of_registration(four, rpc, filters, expected):
    result = rpc.registry.search_enterprises(filters)
    assert [e["id"] for e in result["items"]] == [four[i]["id"] for i in expected]
    assert result["total"] == len(expected)
    assert result["items"] == [four[i] for i in expected]


def test_search_by_founder(four, veterans, rpc):
    partner = veterans(1)[0]
    rpc.registry.update_enterprise(four[1]["id"], {"founder_ids": [partner["id"]]})
    result = rpc.registry.search_enterprises({"founder_id": partner["id"]})
    assert [e["id"] for e in result["items"]] == [four[1]["id"]]


def test_search_pages_through_a_stable_order(four, rpc):
    first = rpc.registry.search_enterprises({}, page=1, page_size=3)
    second = rpc.registry.search_enterprises({}, page=2, page_size=3)
    assert (first["total"], first["page"], first["page_size"]) == (4, 1, 3)
    assert [e["id"] for e in first["items"] + second["items"]] == [e["id"] for e in four]
    assert rpc.registry.search_enterprises({}, page=3, page_size=3)["items"] == []


@pytest.mark.parametrize("args,field", [
    (({"stage": "bankrupt"},), "stage"),
    (({"county_code": "110101"},), "county_code"),
    (({"federation_member": "yes"},), "federation_member"),
    (({"colour": "red"},), "colour"),
    (({"founder_id": "x"},), "founder_id"),
    (({"name": "名" * 101},), "name"),
    (("stage=closed",), "_schema"),
    (({}, 0, 50), "page"),
    (({}, "1", 50), "page"),
    (({}, 1, 201), "page_size"),
    (({}, 1, 0), "page_size"),
])
def test_bad_search_input_is_invalid(registry, rpc, args, field):
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.search_enterprises(*args)
    assert field in caught.value.errors, caught.value.errors


# -- county scope ---------------------------------------------------------------------------

def test_a_county_clerk_sees_and_changes_only_their_counties(four, rpc_as):
    elsewhere = four[3]
    with rpc_as(CLERK_652301) as clerk:
        for call, args in (("get_enterprise", ()), ("get_booklet", ()),
                           ("update_enterprise", ({"stage": "operating"},))):
            with pytest.raises(NotFound) as outside:  # another county's: as a missing one
                getattr(clerk.registry, call)(elsewhere["id"], *args)
            assert str(outside.value) == f"no enterprise {elsewhere['id']}"
        with pytest.raises(Forbidden):  # moving a booklet out of one's counties
            clerk.registry.update_enterprise(four[0]["id"], {"county_code": "652302"})
        with pytest.raises(Forbidden):
            clerk.registry.search_enterprises({"county_code": "652302"})
        everything = clerk.registry.search_enterprises()
        logistics = clerk.registry.search_enterprises({"industry": "logistics"})
        assert clerk.registry.get_enterprise(four[0]["id"]) == four[0]
    assert [e["id"] for e in everything["items"]] == [e["id"] for e in four[:3]]
    assert everything["total"] == 3
    assert [e["id"] for e in logistics["items"]] == [four[1]["id"]]


def test_a_county_clerk_cannot_register_elsewhere_or_name_another_countys_founder(
        founder, veterans, rpc_as, db):
    outsider = veterans(1, county_code="652302")[0]
    with rpc_as(CLERK_652301) as clerk:
        with pytest.raises(Forbidden) as refused:
            clerk.registry.register_enterprise(make_enterprise([founder["id"]],
                                                               county_code="652302"))
        assert "652302" not in str(refused.value)
        with pytest.raises(InvalidInput) as outside:  # as a founder nobody registered
            clerk.registry.register_enterprise(make_enterprise([founder["id"], outsider["id"]]))
        assert outside.value.errors == {"founder_ids.1": ["no veteran with this id"]}
    assert scalar(db, "SELECT count(*) FROM registry.enterprises") == 0
    assert outbox(db) == ["veteran_registered", "veteran_registered"]


def test_a_card_lists_only_enterprises_in_the_operators_counties(founder, rpc, rpc_as):
    here = rpc.registry.register_enterprise(make_enterprise([founder["id"]]))
    rpc.registry.register_enterprise(make_enterprise([founder["id"]], county_code="652302"))
    assert len(rpc.registry.get_card(founder["id"])["enterprises"]) == 2
    with rpc_as(CLERK_652301) as clerk:
        assert [e["id"] for e in clerk.registry.get_card(founder["id"])["enterprises"]] == \
            [here["id"]]


def test_the_booklet_hides_founders_from_counties_the_operator_may_not_see(
        founder, veterans, rpc, rpc_as):
    outsider = veterans(1, county_code="652302")[0]
    enterprise = rpc.registry.register_enterprise(make_enterprise([founder["id"], outsider["id"]]))
    with rpc_as(CLERK_652301) as clerk:
        founders = {f["id"]: f for f in clerk.registry.get_booklet(enterprise["id"])["founders"]}
    assert founders[founder["id"]]["name"] == "张伟"
    assert founders[outsider["id"]] == {"id": outsider["id"], "county_code": "652302",
                                        "name": None, "employment_status": None}


# -- privacy --------------------------------------------------------------------------------

def test_logs_of_the_enterprise_flow_hold_no_names(registry, veterans, rpc):
    founder = veterans(1, name="欧阳娜娜")[0]
    data = make_enterprise([founder["id"]], name="昌吉市欧阳娜娜电子商务有限公司")
    buffer = io.StringIO()
    handler = make_handler(buffer)
    logging.getLogger().addHandler(handler)
    try:
        enterprise = rpc.registry.register_enterprise(data)
        with pytest.raises(Conflict):
            rpc.registry.register_enterprise(data)
        rpc.registry.update_enterprise(enterprise["id"], {"name": data["name"] + "分公司",
                                                          "stage": "operating"})
        rpc.registry.search_enterprises({"name": "欧阳娜娜"})
        rpc.registry.get_booklet(enterprise["id"])
    finally:
        logging.getLogger().removeHandler(handler)
    logs = buffer.getvalue()
    assert enterprise["id"] in logs  # the flow was logged at all
    assert "欧阳娜娜" not in logs
