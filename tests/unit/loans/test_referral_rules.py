"""The referral workflow's rules (referral_domain.py), without a database or a broker: the
moves a referral loan has and those it is refused, the bounds of a bank's decision, a bank
reporting on another bank's loan, the banks' secrets and signatures, the products file's
workflow checks, and followup planning business revisits from a bank's disbursement."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from services.followup.planning_domain import read_events
from services.loans import domain, loan_domain, referral_domain, schedule
from services.loans.bank_http import SIGNING, bank_secrets
from services.loans.loan_domain import Stamp
from services.loans.products import load_products
from shared.auth import SecretTooShort
from shared.contracts import dump_data, envelope, load_event
from shared.errors import Conflict, InvalidInput, NotFound
from shared.http import HttpError

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 20)
STAMP = Stamp(NOW, TODAY, "clerk-7")
BANK = Stamp(NOW, TODAY, "bank:demo_bank_a")
PRODUCT = domain.Product(
    code="referral_loan",
    name="测试转介贷",
    lender="承办银行",
    counties=("652301",),
    min_principal=Decimal("10000.00"),
    max_principal=Decimal("250000.00"),
    max_term_months=36,
    rate_spread=Decimal("0"),
    lpr_term="one_year",
    repayment_method="equal_instalments",
    workflow="referral",
    partner_banks=("demo_bank_a", "demo_bank_b"),
)
APPROVED = {
    "outcome": "approved",
    "approved_amount": Decimal("80000.00"),
    "term_months": 24,
    "annual_rate": Decimal("0.0385"),
    "note": None,
}
SECRET_A = "bank-a-shared-secret-0123456789abcdef"
SECRET_B = "bank-b-shared-secret-0123456789abcdef"


def make_loan(**overrides):
    loan = domain.Loan(
        id="loan-1",
        veteran_id="vet-1",
        product_code="referral_loan",
        status="submitted",
        amount=Decimal("100000.00"),
        created_at=NOW - dt.timedelta(days=30),
        county_code="652301",
        term_months=36,
        purpose="开办物流公司",
        annual_rate=Decimal("0.03"),
        interest_subsidy_rate=Decimal("0.5"),
        repayment_method="equal_instalments",
        submitted_on=dt.date(2026, 10, 21),
        workflow="referral",
    )
    return replace(loan, **overrides)


def referred(**overrides):
    return make_loan(
        **{"status": "referred", "bank_code": "demo_bank_a", "referred_on": TODAY, **overrides}
    )


def approved(**overrides):
    return referred(
        **{
            "status": "approved",
            "approved_amount": Decimal("80000.00"),
            "approved_on": dt.date(2026, 11, 1),
            "term_months": 24,
            "annual_rate": Decimal("0.0385"),
            **overrides,
        }
    )


# -- referring ------------------------------------------------------------------------------
def test_the_bureau_refers_a_submitted_referral_loan_to_a_bank_of_its_product():
    change = referral_domain.refer(make_loan(), PRODUCT, "demo_bank_b", "身份已核实", STAMP)
    assert change.loan.status == "referred" and change.loan.bank_code == "demo_bank_b"
    assert change.loan.referred_on == TODAY
    assert (change.history.from_status, change.history.to_status) == ("submitted", "referred")
    assert change.history.note == "身份已核实" and change.history.operator_id == "clerk-7"
    [event] = change.events
    assert event.type == "loan_referred"
    assert dump_data("loans", event) == {
        "loan_id": "loan-1",
        "veteran_id": "vet-1",
        "product_code": "referral_loan",
        "bank_code": "demo_bank_b",
    }


def test_a_bank_outside_the_products_list_is_invalid():
    with pytest.raises(InvalidInput) as caught:
        referral_domain.refer(make_loan(), PRODUCT, "some_other_bank", None, STAMP)
    assert "demo_bank_a, demo_bank_b" in caught.value.errors["bank_code"][0]


def test_an_in_house_loan_is_never_referred():
    with pytest.raises(Conflict) as caught:
        referral_domain.refer(make_loan(workflow="in_house"), PRODUCT, "demo_bank_a", None, STAMP)
    assert "in_house workflow" in caught.value.message
    assert caught.value.details["workflow"] == "in_house"


@pytest.mark.parametrize("status", ["referred", "approved", "active", "rejected", "withdrawn"])
def test_only_a_submitted_loan_is_referred(status):
    with pytest.raises(Conflict) as caught:
        referral_domain.refer(make_loan(status=status), PRODUCT, "demo_bank_a", None, STAMP)
    assert caught.value.message.startswith(f"a {status} loan cannot be referred")


# -- the bureau's own moves on a referral loan ------------------------------------------------
def test_the_bureau_cannot_approve_or_disburse_a_referral_loan():
    with pytest.raises(Conflict) as caught:
        loan_domain.approve(make_loan(), PRODUCT, None, None, STAMP)
    assert "referral workflow" in caught.value.message
    assert "record_bank_decision" in caught.value.message
    with pytest.raises(Conflict) as caught:
        loan_domain.disburse(approved(), TODAY, STAMP)
    assert "referral workflow" in caught.value.message


def test_a_referral_loan_can_be_withdrawn_before_the_bank_decides_but_not_after_disbursement():
    for loan in (make_loan(), referred(), approved()):
        assert loan_domain.withdraw(loan, STAMP).loan.status == "withdrawn"
    with pytest.raises(Conflict):
        loan_domain.withdraw(approved(status="active", disbursed_on=TODAY), STAMP)


def test_a_submitted_referral_loan_names_its_own_moves_when_refused():
    with pytest.raises(Conflict) as caught:
        referral_domain.decide(make_loan(), PRODUCT, APPROVED, BANK)
    assert caught.value.message == (
        "a submitted loan cannot be approved; from submitted it can become "
        "referred, rejected, withdrawn"
    )


def test_an_in_house_submitted_loan_still_cannot_be_referred_by_a_move():
    assert "referred" not in loan_domain.moves_from("submitted", "in_house")
    assert "approved" not in loan_domain.moves_from("submitted", "referral")
    assert loan_domain.moves_from("referred", "referral") == {"approved", "rejected", "withdrawn"}


# -- the bank's decision ------------------------------------------------------------------------
def test_a_bank_approval_sets_amount_term_and_rate_and_announces_the_amount():
    change = referral_domain.decide(referred(), PRODUCT, APPROVED, BANK)
    loan = change.loan
    assert loan.status == "approved" and loan.approved_amount == Decimal("80000.00")
    assert (loan.term_months, loan.annual_rate, loan.approved_on) == (24, Decimal("0.0385"), TODAY)
    assert change.history.operator_id == "bank:demo_bank_a"
    [event] = change.events
    assert event.type == "loan_approved" and event.data["amount"] == Decimal("80000.00")


def test_a_bank_rejection_needs_nothing_but_its_reason():
    decision = {"outcome": "rejected", "reason": "征信不符"}
    change = referral_domain.decide(referred(), PRODUCT, decision, BANK)
    assert change.loan.status == "rejected" and change.loan.reason == "征信不符"
    assert [e.type for e in change.events] == ["loan_rejected"]
    assert change.changes_eligibility  # no longer an active application


@pytest.mark.parametrize(
    "amount,term,fields",
    [
        ("100000.01", 24, {"approved_amount"}),  # above the amount applied for
        ("100000.00", 37, {"term_months"}),  # above the product's term
        ("100000.01", 48, {"approved_amount", "term_months"}),
        ("100000.00", 36, set()),  # the bounds themselves are allowed
    ],
)
def test_a_bank_decision_stays_within_the_amount_applied_for_and_the_products_caps(
    amount, term, fields
):
    decision = {**APPROVED, "approved_amount": Decimal(amount), "term_months": term}
    if not fields:
        assert referral_domain.decide(referred(), PRODUCT, decision, BANK).loan.term_months == term
        return
    with pytest.raises(InvalidInput) as caught:
        referral_domain.decide(referred(), PRODUCT, decision, BANK)
    assert set(caught.value.errors) == fields


def test_a_bank_decision_is_capped_by_the_product_even_below_the_amount_applied_for():
    lower = replace(PRODUCT, max_principal=Decimal("50000.00"))
    with pytest.raises(InvalidInput) as caught:
        referral_domain.decide(referred(), lower, APPROVED, BANK)
    assert "50000.00" in caught.value.errors["approved_amount"][0]


@pytest.mark.parametrize("status", ["approved", "rejected", "withdrawn", "active"])
def test_a_loan_is_decided_once(status):
    with pytest.raises(Conflict):
        referral_domain.decide(referred(status=status), PRODUCT, APPROVED, BANK)


# -- who may report -------------------------------------------------------------------------------
def test_a_bank_reporting_on_another_banks_loan_is_answered_as_an_unknown_loan():
    loan = referred(bank_code="demo_bank_b")
    answers = []
    for candidate in (loan, make_loan(workflow="in_house", bank_code=None), None):
        with pytest.raises(NotFound) as caught:
            referral_domain.reported_by(candidate, "demo_bank_a", "loan-1")
        answers.append(caught.value.message)
    assert answers == ["no loan loan-1"] * 3
    assert referral_domain.reported_by(loan, "demo_bank_b", "loan-1") is loan


# -- disbursement, repayments, revisits ------------------------------------------------------------
def test_a_bank_disbursement_builds_the_schedule_from_the_banks_terms_and_says_the_day():
    day = dt.date(2026, 11, 10)
    change, instalments = referral_domain.disburse(approved(), day, BANK)
    assert change.loan.status == "active" and change.loan.disbursed_on == day
    assert len(instalments) == 24
    assert sum(i.principal for i in instalments) == Decimal("80000.00")
    assert instalments[0].interest == schedule.money(Decimal("80000.00") * Decimal("0.0385") / 12)
    assert instalments[0].subsidised_interest == schedule.money(instalments[0].interest / 2)
    [event] = change.events
    data = dump_data("loans", event)
    assert data["disbursed_on"] == "2026-11-10" and data["amount"] == "80000.00"


def test_a_disbursement_is_not_in_the_future_nor_before_the_decision_nor_twice():
    with pytest.raises(InvalidInput) as caught:
        referral_domain.disburse(approved(), TODAY + dt.timedelta(days=1), BANK)
    assert "disbursed_on" in caught.value.errors
    with pytest.raises(InvalidInput):
        referral_domain.disburse(approved(), dt.date(2026, 10, 31), BANK)
    with pytest.raises(Conflict):
        referral_domain.disburse(approved(status="delinquent", disbursed_on=TODAY), TODAY, BANK)
    with pytest.raises(Conflict):
        referral_domain.disburse(referred(), TODAY, BANK)


def test_a_bank_repayment_goes_through_the_in_house_allocation():
    change, instalments = referral_domain.disburse(approved(), dt.date(2026, 11, 1), BANK)
    first = instalments[0].due
    repaid = loan_domain.repay(change.loan, instalments, first, TODAY, "rep-1", BANK)
    assert repaid.instalments[0].settled and not repaid.instalments[1].settled
    assert repaid.repayment.recorded_by == "bank:demo_bank_a"


def test_a_revisit_is_of_a_disbursed_loan_within_its_life_and_is_announced():
    loan = approved(status="active", disbursed_on=dt.date(2026, 11, 1))
    visit, events = referral_domain.revisit(loan, TODAY, "operating", "店面正常", "rv-1", BANK)
    assert (visit.outcome, visit.recorded_by, visit.visited_on) == (
        "operating",
        BANK.operator_id,
        TODAY,
    )
    assert dump_data("loans", events[0]) == {
        "loan_id": "loan-1",
        "veteran_id": "vet-1",
        "visited_on": "2026-11-20",
        "outcome": "operating",
    }
    with pytest.raises(Conflict):
        referral_domain.revisit(approved(), TODAY, "operating", None, "rv-2", BANK)
    with pytest.raises(InvalidInput) as caught:
        referral_domain.revisit(loan, dt.date(2026, 10, 31), "operating", None, "rv-3", BANK)
    assert "visited_on" in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        referral_domain.revisit(loan, TODAY, "prospering", None, "rv-4", BANK)
    assert "outcome" in caught.value.errors


# -- followup plans business revisits from a bank's disbursement ---------------------------------
def test_followup_reads_a_bank_disbursement_as_business_revisits_from_its_day():
    change, _ = referral_domain.disburse(approved(), dt.date(2026, 11, 10), BANK)
    body = envelope("loans", change.events[0], "corr", NOW + dt.timedelta(days=5))
    facts = read_events([load_event(body)], ZoneInfo("Asia/Shanghai"))
    [wanted] = facts.wanted
    assert (wanted.veteran_id, wanted.kind) == ("vet-1", "business")
    assert wanted.starts_on == dt.date(2026, 11, 10)  # the bank's day, not the day it was heard


# -- the banks' secrets and signatures ------------------------------------------------------
def test_each_bank_has_its_own_secrets_and_a_code_given_twice_rotates():
    secrets = bank_secrets(f"demo_bank_a={SECRET_A}, demo_bank_b={SECRET_B},demo_bank_a={SECRET_B}")
    assert secrets == {"demo_bank_a": (SECRET_A, SECRET_B), "demo_bank_b": (SECRET_B,)}
    assert bank_secrets("") == {}
    with pytest.raises(ValueError):
        bank_secrets(SECRET_A)  # no code
    with pytest.raises(SecretTooShort):
        bank_secrets("demo_bank_a=short")


def signed_headers(code, secret, body=b"{}", stamp=None):
    stamp = stamp or int(NOW.timestamp())
    headers = SIGNING.headers(secret, stamp, "POST", "/bank/loans/x/decision", "", body)
    return {**headers, "X-Bank-Code": code}


def verify(headers, body=b"{}"):
    secrets = bank_secrets(f"demo_bank_a={SECRET_A},demo_bank_b={SECRET_B}")
    SIGNING.verify(
        secrets, headers, "POST", "/bank/loans/x/decision", "", body, now=NOW.timestamp()
    )


def test_a_request_verifies_only_with_the_secret_of_the_bank_it_names():
    verify(signed_headers("demo_bank_a", SECRET_A))
    for headers in (
        signed_headers("demo_bank_b", SECRET_A),  # bank A's signature, claiming to be B
        signed_headers("unknown_bank", SECRET_A),
        {k: v for k, v in signed_headers("demo_bank_a", SECRET_A).items() if k != "X-Bank-Code"},
    ):
        with pytest.raises(HttpError) as caught:
            verify(headers)
        assert caught.value.status == 401
    assert "X-Bank-Code" in SIGNING.challenge


# -- the products file ---------------------------------------------------------------------
def test_the_shipped_products_have_both_workflows_and_only_demo_banks():
    products = load_products()
    assert products["yongjun_chuangye"].workflow == "in_house"
    referral = products["tuiyi_junren_chuangye"]
    assert referral.workflow == "referral" and referral.figures_unverified
    assert set(referral.partner_banks) <= set(products.banks)
    assert all(bank.demo and "演示" in bank.name for bank in products.banks.values())


@pytest.mark.parametrize(
    "change,message",
    [
        ({"partner_banks": []}, "partner_banks"),
        ({"partner_banks": ["nowhere_bank"]}, "unknown banks"),
        ({"workflow": "in_house"}, "partner_banks"),
        ({"workflow": "outsourced"}, "workflow"),
    ],
)
def test_a_bad_referral_product_stops_the_service_with_a_message(tmp_path, change, message):
    raw = yaml.safe_load(Path("services/loans/products.yaml").read_text(encoding="utf-8"))
    referral = next(p for p in raw["products"] if p["code"] == "tuiyi_junren_chuangye")
    referral.update(change)
    path = tmp_path / "products.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        load_products(path)
    assert message in str(caught.value)


def test_a_loan_disbursed_event_from_before_disbursed_on_still_loads():
    """Consumers (followup) take events already on the bus: the new field may be absent."""
    change, _ = referral_domain.disburse(approved(), dt.date(2026, 11, 10), BANK)
    body = envelope("loans", change.events[0], "corr", NOW)
    del body["data"]["disbursed_on"]
    assert load_event(body).data["disbursed_on"] is None
    [wanted] = read_events([load_event(body)], ZoneInfo("Asia/Shanghai")).wanted
    assert wanted.starts_on == dt.date(2026, 11, 20)  # the day the event occurred


def test_the_bureau_rejects_an_unverified_application_but_not_a_referred_loan():
    # Before the referral the bureau may refuse it (the status could not be verified) ...
    change = loan_domain.reject(make_loan(), "身份核验未通过", STAMP)
    assert change.loan.status == "rejected" and change.events[0].type == "loan_rejected"
    # ... after it, only the bank decides.
    with pytest.raises(Conflict, match="decided by its partner bank") as caught:
        loan_domain.reject(referred(), "不予办理", STAMP)
    assert caught.value.details["status"] == "referred"
