"""loans' lifecycle rules (loan_domain.py), without a database or a broker: which states
each move is allowed from, what it changes, the history line and the events it causes.
Repayments, delinquency and subsidies: test_loan_repayment_rules.py."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from services.loans import domain, loan_domain
from services.loans.loan_domain import Stamp
from shared.contracts import dump_data
from shared.errors import Conflict, InvalidInput

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 20)
STAMP = Stamp(NOW, TODAY, "clerk-7")
STATES = (
    "submitted",
    "approved",
    "active",
    "delinquent",
    "rejected",
    "withdrawn",
    "closed",
    "written_off",
)
PRODUCT = domain.Product(
    code="test_loan",
    name="测试创业贷",
    lender="测试银行",
    counties=("652301",),
    min_principal=Decimal("10000.00"),
    max_principal=Decimal("250000.00"),
    max_term_months=24,
    rate_spread=Decimal("0.0085"),
    lpr_term="one_year",
    repayment_method="equal_instalments",
    criteria={},
)
VETERAN = domain.VeteranFacts("vet-1", "652301", 1990, "business", "unemployed")


def make_loan(**overrides):
    loan = domain.Loan(
        id="loan-1",
        veteran_id="vet-1",
        product_code="test_loan",
        status="submitted",
        amount=Decimal("100000.00"),
        created_at=NOW - dt.timedelta(days=30),
        county_code="652301",
        enterprise_id=None,
        term_months=12,
        purpose="开办物流公司",
        annual_rate=Decimal("0.0435"),
        interest_subsidy_rate=Decimal("0.5"),
        repayment_method="equal_instalments",
        submitted_on=dt.date(2026, 10, 21),
    )
    return replace(loan, **overrides)


def repaying_loan(status="active", **overrides):
    return make_loan(
        **{
            "status": status,
            "approved_amount": Decimal("60000.00"),
            "approved_on": dt.date(2026, 9, 28),
            "disbursed_on": dt.date(2026, 10, 1),
            **overrides,
        }
    )


# Every move, and the states it is allowed from: written out, not read from LOAN_MOVES.
MOVES = {
    "approve": ({"submitted"}, lambda loan: loan_domain.approve(loan, PRODUCT, None, None, STAMP)),
    "reject": ({"submitted"}, lambda loan: loan_domain.reject(loan, "资料不全", STAMP)),
    "withdraw": ({"submitted", "approved"}, lambda loan: loan_domain.withdraw(loan, STAMP)),
    "disburse": ({"approved"}, lambda loan: loan_domain.disburse(loan, TODAY, STAMP)[0]),
    "write_off": (
        {"active", "delinquent"},
        lambda loan: loan_domain.write_off(loan, "经营失败", STAMP),
    ),
}


def loan_in(state):
    return repaying_loan(status=state) if state != "submitted" else make_loan()


# A delinquent loan may become active again (caught up) but is never disbursed again: that
# would build a second schedule and announce loan_disbursed twice (found in issue 18).
@pytest.mark.parametrize(
    "move,state",
    [(m, s) for m in MOVES for s in STATES],
)
def test_each_move_is_allowed_from_its_states_only_and_refused_as_conflict_elsewhere(move, state):
    allowed, run = MOVES[move]
    loan = loan_in(state)
    if state in allowed:
        change = run(loan)
        assert change.history.from_status == state
        assert change.loan.status != state
    else:
        with pytest.raises(Conflict) as caught:
            run(loan)
        assert caught.value.details == {"loan_id": "loan-1", "status": state}
        assert caught.value.message.startswith(f"a {state} loan cannot be ")


def test_a_refused_move_names_the_moves_the_state_has_or_that_it_is_final():
    with pytest.raises(Conflict) as caught:
        loan_domain.write_off(make_loan(), "x", STAMP)
    assert caught.value.message == (
        "a submitted loan cannot be written off; from submitted it "
        "can become approved, rejected, withdrawn"
    )
    with pytest.raises(Conflict) as caught:
        loan_domain.withdraw(make_loan(status="closed"), STAMP)
    assert caught.value.message == "a closed loan cannot be withdrawn; closed is final"


# -- what each move changes and announces ----------------------------------------------------
def test_a_move_is_stamped_and_written_to_the_history_with_its_note():
    change = loan_domain.reject(make_loan(), "资料不全", STAMP)
    assert change.loan.updated_at == NOW
    assert change.history == domain.LoanHistory(
        "loan-1", NOW, "submitted", "rejected", "资料不全", "clerk-7"
    )


def test_approval_is_for_the_amount_applied_for_unless_a_lower_one_is_given():
    change = loan_domain.approve(make_loan(), PRODUCT, None, "ok", STAMP)
    assert change.loan.approved_amount == Decimal("100000.00")
    assert change.loan.approved_on == TODAY
    lower = loan_domain.approve(make_loan(), PRODUCT, Decimal("80000.00"), None, STAMP)
    [event] = lower.events
    assert (event.type, event.data["amount"], event.data["status"]) == (
        "loan_approved",
        Decimal("80000.00"),
        "approved",
    )


@pytest.mark.parametrize("amount", ["100000.01", "9999.99"])
def test_an_approval_above_the_application_or_below_the_product_minimum_is_invalid(amount):
    with pytest.raises(InvalidInput) as caught:
        loan_domain.approve(make_loan(), PRODUCT, Decimal(amount), None, STAMP)
    assert caught.value.errors == {
        "approved_amount": ["must be between 10000.00 and the 100000.00 applied for"]
    }


def test_a_loan_whose_product_is_gone_may_be_approved_for_any_amount_up_to_the_application():
    change = loan_domain.approve(make_loan(), None, Decimal("1.00"), None, STAMP)
    assert change.loan.approved_amount == Decimal("1.00")


def test_a_rejection_keeps_its_reason_closes_the_loan_today_and_announces_loan_rejected():
    change = loan_domain.reject(make_loan(), "资料不全", STAMP)
    assert (change.loan.status, change.loan.reason, change.loan.closed_on) == (
        "rejected",
        "资料不全",
        TODAY,
    )
    assert [e.type for e in change.events] == ["loan_rejected"]


def test_a_withdrawal_is_announced_as_loan_closed_with_status_withdrawn():
    [event] = loan_domain.withdraw(make_loan(status="approved"), STAMP).events
    assert (event.type, event.data["status"]) == ("loan_closed", "withdrawn")


def test_a_write_off_is_announced_as_loan_closed_with_status_written_off():
    change = loan_domain.write_off(repaying_loan(status="delinquent"), "经营失败", STAMP)
    assert (change.loan.reason, change.loan.closed_on) == ("经营失败", TODAY)
    [event] = change.events
    assert (event.type, event.data["status"]) == ("loan_closed", "written_off")


def test_a_disbursement_makes_the_schedule_and_announces_the_approved_amount():
    loan = repaying_loan(status="approved", disbursed_on=None)
    change, instalments = loan_domain.disburse(loan, dt.date(2026, 11, 16), STAMP)
    assert change.loan.status == "active" and change.loan.disbursed_on == dt.date(2026, 11, 16)
    assert len(instalments) == 12 and instalments[0].due_on == dt.date(2026, 12, 16)
    assert sum(i.principal for i in instalments) == Decimal("60000.00")
    [event] = change.events
    assert (event.type, event.data["amount"]) == ("loan_disbursed", Decimal("60000.00"))


@pytest.mark.parametrize(
    "day,message",
    [
        (TODAY + dt.timedelta(days=1), "is in the future"),
        (dt.date(2026, 9, 27), "is before the approval on 2026-09-28"),
    ],
)
def test_a_disbursement_in_the_future_or_before_the_approval_is_invalid(day, message):
    with pytest.raises(InvalidInput) as caught:
        loan_domain.disburse(repaying_loan(status="approved"), day, STAMP)
    assert caught.value.errors == {"disbursed_on": [message]}


def test_the_events_of_every_move_keep_the_loans_contract():
    changes = [
        loan_domain.approve(make_loan(), PRODUCT, None, None, STAMP),
        loan_domain.reject(make_loan(), "x", STAMP),
        loan_domain.withdraw(make_loan(), STAMP),
        loan_domain.disburse(repaying_loan(status="approved"), TODAY, STAMP)[0],
        loan_domain.write_off(repaying_loan(), "x", STAMP),
    ]
    for change in changes:
        [event] = change.events
        assert dump_data("loans", event)["loan_id"] == "loan-1"


# -- applying -------------------------------------------------------------------------------
def assessment(*failed):
    criteria = tuple(
        domain.Criterion(code, code not in failed, f"{code} detail")
        for code in ("registered_veteran", "county_listed", "no_active_loan")
    )
    return domain.Assessment(
        "a-1", "vet-1", "test_loan", not failed, Decimal("0.00"), 0, criteria, NOW
    )


def apply(**fields):
    terms = {
        "loan_id": "loan-9",
        "amount": Decimal("100000.00"),
        "term_months": 24,
        "purpose": "开办物流公司",
        "enterprise_id": None,
        **fields,
    }
    return loan_domain.apply_for(PRODUCT, VETERAN, assessment(), STAMP, **terms)


def test_an_application_is_submitted_on_the_products_terms_and_announced():
    change = apply()
    loan = change.loan
    assert (loan.status, loan.submitted_on, loan.created_by) == ("submitted", TODAY, "clerk-7")
    # Not priced until it is signed (approved): no rate yet.
    assert (loan.annual_rate, loan.repayment_method) == (None, "equal_instalments")
    assert loan.borrower_kind == "individual"
    assert change.applied and change.history.from_status is None
    assert [e.type for e in change.events] == ["loan_applied"]
    assert dump_data("loans", change.events[0])["status"] == "submitted"


def test_an_application_names_every_field_and_criterion_that_fails():
    with pytest.raises(InvalidInput) as caught:
        loan_domain.apply_for(
            PRODUCT,
            VETERAN,
            assessment("no_active_loan"),
            STAMP,
            loan_id="loan-9",
            amount=Decimal("9999.99"),
            term_months=25,
            purpose="x",
            enterprise_id=None,
        )
    assert caught.value.errors == {
        "amount": ["must be between 10000.00 and 250000.00 for 测试创业贷"],
        "term_months": ["must be at most 24 months for 测试创业贷"],
        "criteria.no_active_loan": ["no_active_loan detail"],
    }


def test_an_unknown_veteran_cannot_apply():
    with pytest.raises(InvalidInput) as caught:
        loan_domain.registered(None)
    assert list(caught.value.errors) == ["criteria.registered_veteran"]
    assert loan_domain.registered(VETERAN) is VETERAN


def test_only_a_loan_that_starts_or_stops_being_active_changes_eligibility():
    assert apply().changes_eligibility
    assert loan_domain.reject(make_loan(), "x", STAMP).changes_eligibility
    assert loan_domain.withdraw(make_loan(status="approved"), STAMP).changes_eligibility
    assert loan_domain.write_off(repaying_loan(), "x", STAMP).changes_eligibility
    assert not loan_domain.approve(make_loan(), PRODUCT, None, None, STAMP).changes_eligibility
    assert not loan_domain.disburse(repaying_loan(status="approved"), TODAY, STAMP)[
        0
    ].changes_eligibility
