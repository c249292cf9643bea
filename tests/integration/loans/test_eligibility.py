"""loans' eligibility: assessed from registry's events, stored with one result per
criterion, announced only when the answer or the amount changes."""

import uuid
from pathlib import Path

import pytest
import yaml
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_container

from services.loans.service import LoansService
from shared.errors import InvalidInput
from shared.messaging import declare_topology
from tests.helpers import publish, registered_event, scalar, wait_for


@pytest.fixture
def loans(start):
    return get_container(start(LoansService), LoansService)


def deliver(container, config, event, handler="on_registry_events"):
    with entrypoint_waiter(container, handler, timeout=15):
        publish(config, event)


# Two products are shipped (the in-house 拥军创业贷 and the referral 退役军人创业贷): every
# veteran is assessed for each; these tests follow the in-house one.
PRODUCT = "product_code = 'yongjun_chuangye'"
YONGJUN = "body->'data'->>'product_code' = 'yongjun_chuangye'"


def failed(assessment):
    return [c["code"] for c in assessment["criteria"] if not c["passed"]]


def test_products_come_from_the_config_file(loans, rpc):
    products = {p["code"]: p for p in rpc.loans.list_products()}
    assert sorted(products) == ["tuiyi_junren_chuangye", "yongjun_chuangye"]
    assert products["tuiyi_junren_chuangye"]["workflow"] == "referral"
    product = products["yongjun_chuangye"]
    assert product["name"] == "拥军创业贷" and product["workflow"] == "in_house"
    assert product["max_principal"] == "300000.00" and product["max_term_months"] == 36


def test_a_veteran_who_wants_a_job_is_not_eligible_and_is_told_why(loans, rpc, config, db):
    event = registered_event(willingness="job")
    deliver(loans, config, event)

    [assessment] = rpc.loans.get_eligibility(event["data"]["veteran_id"], "yongjun_chuangye")
    assert assessment["eligible"] is False and failed(assessment) == ["business_intent"]
    assert assessment["max_amount"] == "0.00"
    detail = next(c["detail"] for c in assessment["criteria"] if c["code"] == "business_intent")
    assert "job" in detail
    body = scalar(db, f"SELECT body FROM loans.outbox WHERE {YONGJUN}")
    assert body["data"]["failed_criteria"] == ["business_intent"]
    assert body["data"]["cause_event_id"] == event["event_id"]


def test_a_county_the_product_does_not_cover_fails_that_criterion(start, rpc, config, tmp_path):
    products = yaml.safe_load(Path("services/loans/products.yaml").read_text(encoding="utf-8"))
    products["products"][0]["counties"] = ["652302"]
    path = tmp_path / "products.yaml"
    path.write_text(yaml.safe_dump(products, allow_unicode=True), encoding="utf-8")
    loans = get_container(start(LoansService, PRODUCTS_FILE=str(path)), LoansService)
    event = registered_event(county_code="652301")
    deliver(loans, config, event)

    result = rpc.loans.check_eligibility(event["data"]["veteran_id"], "yongjun_chuangye")
    assert result["eligible"] is False and failed(result) == ["county_listed"]


def test_checking_again_stores_an_assessment_but_announces_only_a_change(loans, rpc, config, db):
    event = registered_event(willingness="business")
    veteran_id = event["data"]["veteran_id"]
    deliver(loans, config, event)
    assert rpc.loans.check_eligibility(veteran_id, "yongjun_chuangye")["eligible"] is True
    assert scalar(db, f"SELECT count(*) FROM loans.eligibility_assessments WHERE {PRODUCT}") == 2
    assert scalar(db, f"SELECT count(*) FROM loans.outbox WHERE {YONGJUN}") == 1

    update = registered_event(veteran_id=veteran_id)
    update["type"] = "veteran_updated"
    update["data"] = {
        "veteran_id": veteran_id,
        "changed": {"willingness": "none"},
        "snapshot": {**event["data"], "willingness": "none"},
    }
    deliver(loans, config, update, handler="on_registry_events")
    assert rpc.loans.get_eligibility(veteran_id, "yongjun_chuangye")[0]["eligible"] is False
    assert scalar(db, f"SELECT count(*) FROM loans.outbox WHERE {YONGJUN}") == 2


def test_an_unknown_veteran_fails_the_registered_criterion_and_nothing_is_stored(loans, rpc, db):
    result = rpc.loans.check_eligibility(str(uuid.uuid4()), "yongjun_chuangye")
    assert result["eligible"] is False and "registered_veteran" in failed(result)
    assert scalar(db, "SELECT count(*) FROM loans.eligibility_assessments") == 0
    assert rpc.loans.get_eligibility(result["veteran_id"]) == []


@pytest.mark.parametrize(
    "veteran_id,product_code,field",
    [
        ("not-a-uuid", "yongjun_chuangye", "veteran_id"),
        (str(uuid.uuid4()), "gold_loan", "product_code"),
        (str(uuid.uuid4()), ["yongjun_chuangye"], "product_code"),
    ],
)
def test_bad_arguments_are_invalid_input(loans, rpc, veteran_id, product_code, field):
    with pytest.raises(InvalidInput) as caught:
        rpc.loans.check_eligibility(veteran_id, product_code)
    assert field in caught.value.errors


def test_events_waiting_in_the_queue_are_assessed_as_one_batch_in_their_order(
    start, rpc, config, db
):
    # Declared and filled before loans starts, so they arrive together.
    declare_topology(LoansService, config)
    events = [registered_event(willingness="business") for _ in range(30)]
    changed = events[7]["data"]
    update = registered_event(veteran_id=changed["veteran_id"])
    update["type"] = "veteran_updated"
    update["data"] = {
        "veteran_id": changed["veteran_id"],
        "changed": {"willingness": "job"},
        "snapshot": {**changed, "willingness": "job"},
    }
    for event in [*events, update]:
        publish(config, event)

    start(LoansService)
    wait_for(
        lambda: (
            scalar(db, f"SELECT count(*) FROM loans.eligibility_assessments WHERE {PRODUCT}") == 31
        ),
        message="31 assessments",
    )
    # The update came after the registration: the projection and the latest answer follow it.
    assert (
        scalar(
            db,
            "SELECT willingness FROM loans.veterans WHERE veteran_id = %s",
            changed["veteran_id"],
        )
        == "job"
    )
    [latest] = rpc.loans.get_eligibility(changed["veteran_id"], "yongjun_chuangye")
    assert latest["eligible"] is False and failed(latest) == ["business_intent"]
    announced = scalar(
        db,
        "SELECT array_agg(body->'data'->>'eligible' ORDER BY id)"
        f" FROM loans.outbox WHERE body->'data'->>'veteran_id' = %s AND {YONGJUN}",
        changed["veteran_id"],
    )
    assert announced == ["true", "false"]
    assert scalar(db, f"SELECT count(*) FROM loans.outbox WHERE {YONGJUN}") == 31
    assert scalar(db, "SELECT count(*) FROM loans.inbox") == 31
