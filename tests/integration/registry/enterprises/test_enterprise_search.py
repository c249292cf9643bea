"""Finding enterprises' booklets against the real RabbitMQ and PostgreSQL: filters, paging,
county scope, and logs without names."""

import io
import logging

import pytest

from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.logging import make_handler
from tests.helpers import scalar
from tests.integration.registry.enterprises.booklets import (
    CLERK_652301,
    make_enterprise,
    outbox,
)

# -- search ---------------------------------------------------------------------------------


@pytest.fixture
def four(founder, rpc):
    """Four enterprises, registered in this order."""
    f = [founder["id"]]
    return [
        rpc.registry.register_enterprise(data)
        for data in (
            make_enterprise(
                f, name="昌吉市戎创商贸有限公司", industry="ecommerce", stage="startup"
            ),
            make_enterprise(
                f, name="老兵物流", industry="logistics", stage="operating", federation_member=True
            ),
            make_enterprise(
                f,
                kind="individual_business",
                uscc=None,
                name="戎兵小吃店",
                industry="catering",
                stage="operating",
            ),
            make_enterprise(
                f,
                name="阜康市戎装物流有限公司",
                county_code="652302",
                industry="logistics",
                stage="closed",
            ),
        )
    ]


@pytest.mark.parametrize(
    "filters,expected",
    [
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
    ],
)
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


@pytest.mark.parametrize(
    "args,field",
    [
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
    ],
)
def test_bad_search_input_is_invalid(registry, rpc, args, field):
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.search_enterprises(*args)
    assert field in caught.value.errors, caught.value.errors


# -- county scope ---------------------------------------------------------------------------


def test_a_county_clerk_sees_and_changes_only_their_counties(four, rpc_as):
    elsewhere = four[3]
    with rpc_as(CLERK_652301) as clerk:
        for call, args in (
            ("get_enterprise", ()),
            ("get_booklet", ()),
            ("update_enterprise", ({"stage": "operating"},)),
        ):
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
    founder, veterans, rpc_as, db
):
    outsider = veterans(1, county_code="652302")[0]
    with rpc_as(CLERK_652301) as clerk:
        with pytest.raises(Forbidden) as refused:
            clerk.registry.register_enterprise(
                make_enterprise([founder["id"]], county_code="652302")
            )
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
        assert [e["id"] for e in clerk.registry.get_card(founder["id"])["enterprises"]] == [
            here["id"]
        ]


def test_the_booklet_hides_founders_from_counties_the_operator_may_not_see(
    founder, veterans, rpc, rpc_as
):
    outsider = veterans(1, county_code="652302")[0]
    enterprise = rpc.registry.register_enterprise(make_enterprise([founder["id"], outsider["id"]]))
    with rpc_as(CLERK_652301) as clerk:
        founders = {f["id"]: f for f in clerk.registry.get_booklet(enterprise["id"])["founders"]}
    assert founders[founder["id"]]["name"] == "张伟"
    assert founders[outsider["id"]] == {
        "id": outsider["id"],
        "county_code": "652302",
        "name": None,
        "employment_status": None,
    }


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
        rpc.registry.update_enterprise(
            enterprise["id"], {"name": data["name"] + "分公司", "stage": "operating"}
        )
        rpc.registry.search_enterprises({"name": "欧阳娜娜"})
        rpc.registry.get_booklet(enterprise["id"])
    finally:
        logging.getLogger().removeHandler(handler)
    logs = buffer.getvalue()
    assert enterprise["id"] in logs  # the flow was logged at all
    assert "欧阳娜娜" not in logs
