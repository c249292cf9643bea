"""loans' rules for repayments, delinquency and subsidies (loan_domain.py), without a
database or a broker."""

import datetime as dt
from decimal import Decimal

import pytest

from services.loans import domain, loan_domain, schedule
from shared.contracts import dump_data
from shared.errors import Conflict, InvalidInput
from tests.unit.loans.test_loan_rules import NOW, STAMP, STATES, TODAY, repaying_loan


def instalments_of(loan):
    return schedule.build(
        loan.approved_amount,
        loan.annual_rate,
        loan.term_months,
        loan.repayment_method,
        loan.interest_subsidy_rate,
        loan.disbursed_on,
    )


def outstanding(instalments):
    return schedule.totals(instalments)["outstanding"]


@pytest.mark.parametrize("state", STATES)
def test_a_repayment_is_taken_only_by_an_active_or_delinquent_loan(state):
    loan = repaying_loan(status=state)
    if state in ("active", "delinquent"):
        repaid = loan_domain.repay(
            loan, instalments_of(loan), Decimal("100.00"), TODAY, "rep-1", STAMP
        )
        assert repaid.repayment.amount == Decimal("100.00")
    else:
        with pytest.raises(Conflict, match=f"a {state} loan takes no repayment"):
            loan_domain.repay(loan, instalments_of(loan), Decimal("100.00"), TODAY, "rep-1", STAMP)


# -- repaying and delinquency ---------------------------------------------------------------
def test_a_repayment_of_everything_outstanding_closes_the_loan_on_the_day_paid():
    loan = repaying_loan(status="delinquent", days_overdue=20)
    instalments = instalments_of(loan)
    # The first instalment (due 2026-11-01) is unsettled on 11-18: its subsidy is forfeit,
    # so everything outstanding is the schedule's plus that instalment's subsidy.
    everything = outstanding(instalments) + instalments[0].subsidised_interest
    with pytest.raises(InvalidInput):
        loan_domain.repay(
            loan, instalments, everything + Decimal("0.01"), dt.date(2026, 11, 18), "r", STAMP
        )
    repaid = loan_domain.repay(loan, instalments, everything, dt.date(2026, 11, 18), "rep-1", STAMP)
    assert outstanding(repaid.instalments) == schedule.ZERO
    assert [i.subsidy_forfeited for i in repaid.instalments[:2]] == [True, False]
    loan = repaid.change.loan
    assert (loan.status, loan.closed_on, loan.days_overdue) == ("closed", dt.date(2026, 11, 18), 0)
    assert repaid.change.history.note == "repaid"
    assert [(e.type, e.data["status"]) for e in repaid.change.events] == [("loan_closed", "closed")]
    assert repaid.repayment == domain.Repayment(
        "rep-1", "loan-1", everything, dt.date(2026, 11, 18), NOW, "clerk-7"
    )


@pytest.mark.parametrize(
    "amount,paid_on,field,message",
    [
        ("999999.00", TODAY, "amount", "is more than the"),
        ("100.00", TODAY + dt.timedelta(days=1), "paid_on", "is in the future"),
        ("100.00", dt.date(2026, 9, 30), "paid_on", "is before the disbursement on 2026-10-01"),
    ],
)
def test_a_repayment_too_large_in_the_future_or_before_disbursement_is_invalid(
    amount, paid_on, field, message
):
    loan = repaying_loan()
    with pytest.raises(InvalidInput) as caught:
        loan_domain.repay(loan, instalments_of(loan), Decimal(amount), paid_on, "r", STAMP)
    assert list(caught.value.errors) == [field]
    assert caught.value.errors[field][0].startswith(message)


def test_an_overdue_instalment_makes_an_active_loan_delinquent_without_an_event():
    loan = repaying_loan()  # disbursed 2026-10-01: the first instalment was due 2026-11-01
    change = loan_domain.follow_delinquency(loan, instalments_of(loan), STAMP)
    assert (change.loan.status, change.loan.days_overdue) == ("delinquent", 19)
    assert change.history.note == "19 days overdue"
    assert change.events == () and not change.changes_eligibility


def test_a_delinquent_loan_caught_up_is_active_again():
    loan = repaying_loan(status="delinquent", days_overdue=19)
    instalments = instalments_of(loan)
    caught_up = schedule.allocate(instalments, instalments[0].due, TODAY)
    change = loan_domain.follow_delinquency(loan, caught_up, STAMP)
    assert (change.loan.status, change.loan.days_overdue) == ("active", 0)
    assert change.history.note == "caught up"


def test_more_days_overdue_change_the_loan_but_move_nothing():
    loan = repaying_loan(status="delinquent", days_overdue=3)
    change = loan_domain.follow_delinquency(loan, instalments_of(loan), STAMP)
    assert change.loan.days_overdue == 19 and change.loan.status == "delinquent"
    assert not change.moved and change.events == ()
    assert change.loan.updated_at is None  # not stamped: nothing moved


def test_a_loan_whose_delinquency_is_unchanged_has_no_change():
    loan = repaying_loan(status="delinquent", days_overdue=19)
    assert loan_domain.follow_delinquency(loan, instalments_of(loan), STAMP) is None


# -- subsidies ------------------------------------------------------------------------------
def subsidy(amount="4000.00"):
    return domain.Subsidy(
        "sub-1", "startup", "vet-1", None, "652301", Decimal(amount), "2026", None, NOW, "clerk-7"
    )


def test_a_subsidy_within_the_cap_is_granted_and_announced():
    granted, [event] = loan_domain.grant_subsidy(subsidy(), Decimal("6000.00"), Decimal("10000.00"))
    assert granted == subsidy()
    assert dump_data("loans", event) == {
        "subsidy_id": "sub-1",
        "veteran_id": "vet-1",
        "enterprise_id": None,
        "kind": "startup",
        "amount": "4000.00",
    }


def test_a_subsidy_past_the_cap_is_a_conflict_naming_what_is_granted_and_the_cap():
    with pytest.raises(Conflict) as caught:
        loan_domain.grant_subsidy(subsidy("4000.01"), Decimal("6000.00"), Decimal("10000.00"))
    assert caught.value.details == {"granted": "6000.00", "cap": "10000.00"}


def test_a_kind_without_a_cap_takes_any_subsidy():
    granted, _ = loan_domain.grant_subsidy(subsidy("99999.00"), Decimal("99999.00"), None)
    assert granted.amount == Decimal("99999.00")
