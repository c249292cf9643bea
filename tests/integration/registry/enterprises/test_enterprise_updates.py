"""Updating enterprises' booklets against the real RabbitMQ and PostgreSQL: what is
announced, audited and refused; the founder's card and the booklet."""

import pytest

from shared.errors import Conflict, InvalidInput
from tests.helpers import scalar
from tests.integration.registry.enterprises.booklets import (
    BAD_CHECK_USCC,
    UNKNOWN_ID,
    make_enterprise,
    outbox,
    valid_uscc,
)

# -- updates --------------------------------------------------------------------------------


def test_an_update_announces_the_changed_facts_with_a_snapshot(enterprise, rpc, db):
    updated = rpc.registry.update_enterprise(
        enterprise["id"],
        {"stage": "operating", "employees": 10, "veteran_employees": 4, "federation_member": True},
    )

    assert (updated["stage"], updated["employees"], updated["federation_member"]) == (
        "operating",
        10,
        True,
    )
    assert rpc.registry.get_enterprise(enterprise["id"]) == updated
    body = outbox(db, "enterprise_updated")[0]["data"]
    assert body["enterprise_id"] == enterprise["id"]
    assert body["changed"] == {
        "stage": "operating",
        "employees": 10,
        "veteran_employees": 4,
        "federation_member": True,
    }
    assert body["snapshot"]["stage"] == "operating" and body["snapshot"]["employees"] == 10
    assert body["snapshot"]["founder_ids"] == enterprise["founder_ids"]
    assert (
        scalar(
            db,
            "SELECT count(*) FROM registry.audit_log WHERE action = 'update_enterprise'"
            " AND entity_id = %s",
            enterprise["id"],
        )
        == 1
    )


def test_closing_an_enterprise_is_allowed(enterprise, rpc, db):
    closed = rpc.registry.update_enterprise(enterprise["id"], {"stage": "closed"})
    assert closed["stage"] == "closed"
    assert outbox(db, "enterprise_updated")[0]["data"]["changed"] == {"stage": "closed"}


def test_a_new_name_is_kept_and_audited_but_not_announced(enterprise, rpc, db):
    before = outbox(db)
    renamed = rpc.registry.update_enterprise(
        enterprise["id"], {"name": "昌吉市戎创电子商务有限公司"}
    )
    assert renamed["name"] == "昌吉市戎创电子商务有限公司"
    assert outbox(db) == before
    assert (
        scalar(db, "SELECT count(*) FROM registry.audit_log WHERE action = 'update_enterprise'")
        == 1
    )


def test_an_update_that_changes_nothing_writes_nothing(enterprise, rpc, db):
    before = outbox(db)
    same = rpc.registry.update_enterprise(enterprise["id"], {"stage": "startup", "employees": 6})
    assert same == enterprise
    assert outbox(db) == before
    assert (
        scalar(db, "SELECT count(*) FROM registry.audit_log WHERE action = 'update_enterprise'")
        == 0
    )


def test_new_founders_replace_the_set_and_become_self_employed(
    enterprise, founder, veterans, rpc, db
):
    partner = veterans(1)[0]
    updated = rpc.registry.update_enterprise(enterprise["id"], {"founder_ids": [partner["id"]]})

    assert updated["founder_ids"] == [partner["id"]]
    assert scalar(db, "SELECT array_agg(veteran_id::text) FROM registry.enterprise_founders") == [
        partner["id"]
    ]
    assert rpc.registry.get_veteran(partner["id"])["employment_status"] == "self_employed"
    reasons = [b["data"]["reason"] for b in outbox(db, "employment_status_changed")]
    assert reasons == ["enterprise_registered", "enterprise_founder_added"]
    assert outbox(db, "enterprise_updated")[0]["data"]["changed"] == {
        "founder_ids": [partner["id"]]
    }
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
    ("unknown kind", {"kind": "partnership"}, "kind"),
    ("empty name", {"name": ""}, "name"),
    ("the id", {"id": UNKNOWN_ID}, "id"),
    ("payload a string", "closed", "_schema"),
    ("payload null", None, "_schema"),
]


@pytest.mark.parametrize(
    "data,field", [c[1:] for c in UPDATE_CASES], ids=[c[0] for c in UPDATE_CASES]
)
def test_a_bad_update_is_invalid_input_and_changes_nothing(enterprise, rpc, db, data, field):
    before = outbox(db)
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.update_enterprise(enterprise["id"], data)
    assert field in caught.value.errors, caught.value.errors
    assert rpc.registry.get_enterprise(enterprise["id"]) == enterprise
    assert outbox(db) == before


def test_an_individual_business_may_become_an_enterprise_with_a_uscc(founder, rpc):
    business = rpc.registry.register_enterprise(
        make_enterprise([founder["id"]], kind="individual_business", uscc=None)
    )
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
    assert booklet["founders"] == [
        {
            "id": founder["id"],
            "name": "张伟",
            "county_code": "652301",
            "employment_status": "self_employed",
        }
    ]
    assert [e["type"] for e in booklet["timeline"]] == [
        "enterprise_updated",
        "enterprise_registered",
    ]
    assert booklet["timeline"][1]["summary"] == "enterprise registered: ecommerce, stage startup"
    assert booklet["timeline"][0]["summary"] == "booklet updated: stage"
    assert isinstance(booklet["timeline"][0]["at"], str)
