"""The rules of the 拥军创业贷 loan lifecycle and of subsidies: pure functions that take
loans' records (domain.py) and return the change and the events it causes, or raise
``InvalidInput`` / ``Conflict``; lifecycle.py loads, calls them, stores and replies.

States follow Apache Fineract: submitted → approved | rejected | withdrawn; approved →
active (disbursed) | withdrawn; active ⇄ delinquent (an instalment overdue); active |
delinquent → closed (repaid) | written_off."""

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from services.loans import loan_rules, schedule
from services.loans.domain import (
    ACTIVE_LOAN_STATES,
    Assessment,
    Enterprise,
    Loan,
    LoanHistory,
    Product,
    Repayment,
    Subsidy,
    VeteranFacts,
)
from services.loans.schedule import Instalment
from shared.contracts import Event
from shared.contracts.loans import (
    LOAN_APPLIED,
    LOAN_APPROVED,
    LOAN_CLOSED,
    LOAN_DISBURSED,
    LOAN_EXTENDED,
    LOAN_REJECTED,
    SUBSIDY_GRANTED,
)
from shared.errors import Conflict, invalid

LOAN_MOVES = {
    "submitted": {"approved", "rejected", "withdrawn"},
    "approved": {"active", "withdrawn"},
    "referred": {"approved", "rejected", "withdrawn"},  # the partner bank decides
    "active": {"delinquent", "closed", "written_off"},
    "delinquent": {"active", "closed", "written_off"},
    "rejected": set(),
    "withdrawn": set(),
    "closed": set(),
    "written_off": set(),
}
REPAYING = ("active", "delinquent")
# Where a workflow's moves differ from LOAN_MOVES: a referral loan is referred to a partner
# bank after the bureau verifies it (referral_domain.py), never approved by the bureau.
WORKFLOW_MOVES = {"referral": {"submitted": {"referred", "rejected", "withdrawn"}}}


def moves_from(status: str, workflow: str = "in_house") -> set[str]:
    return WORKFLOW_MOVES.get(workflow, {}).get(status, LOAN_MOVES.get(status, set()))


@dataclass(frozen=True)
class Stamp:
    """When a change is made (the instant and the bureau's date) and by whom."""

    at: dt.datetime
    today: dt.date
    operator_id: str


@dataclass(frozen=True)
class Change:
    """A change to one loan: the loan as it is after it, the history line of a move (None
    for a change that moves nothing: days overdue only) and the events it causes."""

    loan: Loan
    history: LoanHistory | None = None
    events: tuple[Event, ...] = ()

    @property
    def moved(self) -> bool:
        return self.history is not None

    @property
    def applied(self) -> bool:
        """The loan is new: an application."""
        return self.history is not None and self.history.from_status is None

    @property
    def changes_eligibility(self) -> bool:
        """A loan that starts or stops being active changes the ``no_active_loan``
        answer for its product."""
        before = self.history.from_status if self.history else self.loan.status
        return (before in ACTIVE_LOAN_STATES) != (self.loan.status in ACTIVE_LOAN_STATES)


@dataclass(frozen=True)
class Repaid:
    """A repayment, the instalments as it leaves them, and what it did to the loan."""

    repayment: Repayment
    instalments: list[Instalment]
    change: Change | None


def illegal_loan_move(current: str, target: str, action: str, workflow: str = "in_house") -> str:
    allowed = sorted(moves_from(current, workflow))
    return f"a {current} loan cannot be {action}" + (
        f"; from {current} it can become {', '.join(allowed)}"
        if allowed
        else f"; {current} is final"
    )


def check_move(loan: Loan, target: str, action: str) -> None:
    if target not in moves_from(loan.status, loan.workflow):
        raise Conflict(
            illegal_loan_move(loan.status, target, action, loan.workflow),
            {"loan_id": loan.id, "status": loan.status},
        )


def loan_event(event_type: str, loan: Loan, amount: Decimal | None = None) -> Event:
    data: dict[str, Any] = {
        "loan_id": loan.id,
        "veteran_id": loan.veteran_id,
        "enterprise_id": loan.enterprise_id,
        "product_code": loan.product_code,
        "amount": amount if amount is not None else loan.amount,
        "status": loan.status,
    }
    if event_type == LOAN_DISBURSED:  # followup plans its business revisits from it
        data["disbursed_on"] = loan.disbursed_on
    return Event(event_type, data)


def transition(
    loan: Loan,
    target: str,
    action: str,
    stamp: Stamp,
    *,
    note: str | None = None,
    event: str | None = None,
    event_amount: Decimal | None = None,
    **changes: Any,
) -> Change:
    """The one way a loan changes state: allowed from its state (else ``Conflict`` naming
    the moves it has, ``action`` saying what was tried), stamped, written to its history,
    and announced as ``event`` (none for active ⇄ delinquent)."""
    check_move(loan, target, action)
    moved = replace(loan, status=target, updated_at=stamp.at, **changes)
    history = LoanHistory(loan.id, stamp.at, loan.status, target, note, stamp.operator_id)
    events = (loan_event(event, moved, event_amount),) if event else ()
    return Change(moved, history, events)


# -- applying -------------------------------------------------------------------------------
def registered(veteran: VeteranFacts | None) -> VeteranFacts:
    """Only a veteran loans knows (and the caller may see) applies."""
    if veteran is None:
        raise invalid({"criteria.registered_veteran": ["not found among registered veterans"]})
    return veteran


def apply_for(
    product: Product,
    veteran: VeteranFacts,
    assessment: Assessment,
    stamp: Stamp,
    *,
    loan_id: str,
    amount: Decimal,
    term_months: int,
    purpose: str | None,
    enterprise_id: str | None,
    borrower_kind: str = "individual",
    enterprise: Enterprise | None = None,
    cap: dict | None = None,
) -> Change:
    """A submitted loan, when the amount and term are within the limits (the product's,
    or ``cap`` for the borrower kind from ``loan_caps`` when lower), the borrower may
    borrow (``borrower_errors``) and the veteran is eligible as ``assessment`` found; else
    ``InvalidInput`` naming the fields and the failed criteria (``criteria.<code>``)."""
    errors = borrower_errors(product, veteran, borrower_kind, enterprise_id, enterprise, cap)
    top, longest = limits(product, cap)
    if not product.min_principal <= amount <= top:
        errors["amount"] = [
            f"must be between {product.min_principal} and {top} for {product.name}"
            + (f" and a {borrower_kind} borrower" if top < product.max_principal else "")
        ]
    if term_months > longest:
        errors["term_months"] = [
            f"must be at most {longest} months for {product.name}"
            + (f" and a {borrower_kind} borrower" if longest < product.max_term_months else "")
        ]
    for criterion in assessment.criteria:
        if not criterion.passed:
            errors[f"criteria.{criterion.code}"] = [criterion.detail]
    if errors:
        raise invalid(errors)
    loan = Loan(
        id=loan_id,
        veteran_id=veteran.veteran_id,
        product_code=product.code,
        status="submitted",
        amount=amount,
        created_at=stamp.at,
        county_code=veteran.county_code,
        enterprise_id=enterprise_id,
        term_months=term_months,
        purpose=purpose,
        repayment_method=product.repayment_method,
        submitted_on=stamp.today,
        updated_at=stamp.at,
        created_by=stamp.operator_id,
        borrower_kind=borrower_kind,
        workflow=product.workflow,
    )
    history = LoanHistory(loan.id, stamp.at, None, "submitted", None, stamp.operator_id)
    return Change(loan, history, (loan_event(LOAN_APPLIED, loan),))


# -- deciding -------------------------------------------------------------------------------
def limits(product: Product, cap: dict | None) -> tuple[Decimal, int]:
    """The largest amount and longest term: the product's, or the borrower kind's cap
    (``loan_caps``) where it is lower."""
    if cap is None:
        return product.max_principal, product.max_term_months
    return (
        min(product.max_principal, cap["max_principal"]),
        min(product.max_term_months, cap["max_term_months"]),
    )


def borrower_errors(
    product: Product,
    veteran: VeteranFacts,
    kind: str,
    enterprise_id: str | None,
    enterprise: Enterprise | None,
    cap: dict | None,
) -> dict[str, list[str]]:
    """Who borrows: an individual, or an enterprise of the matching booklet kind that the
    veteran founded and that is not closed; a small or micro enterprise must also meet
    the new-hire condition of ``cap``. ``{field: [reasons]}``."""
    errors: dict[str, list[str]] = {}
    if kind not in product.borrower_kinds:
        errors["borrower_kind"] = [
            f"{product.name} lends to {', '.join(product.borrower_kinds)}, not {kind}"
        ]
        return errors
    if kind == "individual":
        return errors
    if enterprise_id is None:
        return {"enterprise_id": [f"is required for a {kind} loan"]}
    if enterprise is None or veteran.veteran_id not in enterprise.founder_ids:
        return {"enterprise_id": ["is not an enterprise this veteran founded"]}
    if enterprise.stage == "closed":
        errors["enterprise_id"] = ["the enterprise is closed"]
    wanted = loan_rules.BOOKLET_KIND[kind]
    if enterprise.kind != wanted:
        errors["borrower_kind"] = [
            f"the enterprise's booklet kind is {enterprise.kind}; a {kind} loan needs {wanted}"
        ]
    elif kind == "small_micro_enterprise" and cap is not None:
        problem = loan_rules.new_hires_problem(cap, enterprise.employees, enterprise.new_hires)
        if problem:
            errors["new_hires"] = [problem]
    return errors


def approve(
    loan: Loan,
    product: Product | None,
    approved_amount: Decimal | None,
    note: str | None,
    stamp: Stamp,
    pricing: loan_rules.Pricing | None = None,
) -> Change:
    """Approved for the amount applied for unless a lower one is given, not below the
    product's minimum. In-house, approval is the signing: the loan is priced then
    (``pricing``: the LPR in force + the product's spread, the subsidy rule and share)."""
    require_in_house(loan, "approved")
    check_move(loan, "approved", "approved")
    amount = approved_amount or loan.amount
    floor = product.min_principal if product else schedule.ZERO
    if not floor <= amount <= loan.amount:
        raise invalid(
            {"approved_amount": [f"must be between {floor} and the {loan.amount} applied for"]}
        )
    return transition(
        loan,
        "approved",
        "approved",
        stamp,
        note=note,
        event=LOAN_APPROVED,
        event_amount=amount,
        approved_amount=amount,
        approved_on=stamp.today,
        **(priced(pricing, product) if pricing is not None else {}),
    )


def priced(pricing: loan_rules.Pricing, product: Product | None) -> dict[str, Any]:
    """The loan's fields a price sets."""
    return {
        "lpr": pricing.lpr,
        "lpr_entry": pricing.lpr_entry,
        "rate_spread": pricing.rate_spread,
        "annual_rate": pricing.annual_rate,
        "subsidy_rule": pricing.subsidy_rule,
        "interest_subsidy_rate": pricing.subsidy_share,
        "subsidy_months": product.subsidy_months if product else None,
    }


def reject(loan: Loan, reason: str, stamp: Stamp) -> Change:
    """The bureau refuses an application: an in-house one before approval, a referral one
    only before it is referred (its status could not be verified); once referred, the
    partner bank decides."""
    if loan.status == "referred":
        raise Conflict(
            f"a referred loan is decided by its partner bank ({loan.bank_code}), not the "
            "bureau: enter the bank's decision (record_bank_decision)",
            {"loan_id": loan.id, "status": loan.status, "workflow": loan.workflow},
        )
    return transition(
        loan,
        "rejected",
        "rejected",
        stamp,
        note=reason,
        event=LOAN_REJECTED,
        reason=reason,
        closed_on=stamp.today,
    )


def withdraw(loan: Loan, stamp: Stamp) -> Change:
    """Before disbursement: announced as ``loan_closed`` with status ``withdrawn`` (the
    catalogue has no event of its own for it)."""
    return transition(
        loan, "withdrawn", "withdrawn", stamp, event=LOAN_CLOSED, closed_on=stamp.today
    )


def write_off(loan: Loan, reason: str, stamp: Stamp) -> Change:
    return transition(
        loan,
        "written_off",
        "written off",
        stamp,
        note=reason,
        event=LOAN_CLOSED,
        reason=reason,
        closed_on=stamp.today,
    )


def disburse(loan: Loan, day: dt.date, stamp: Stamp) -> tuple[Change, list[Instalment]]:
    """Active from ``day`` (not in the future, not before the approval), with the
    repayment schedule made from it."""
    require_in_house(loan, "disbursed")
    return paid_out(loan, day, stamp)


def paid_out(
    loan: Loan, day: dt.date, stamp: Stamp, note: str | None = None
) -> tuple[Change, list[Instalment]]:
    """The money reached the borrower on ``day`` (by the bureau's or, in the referral
    workflow, the bank's hand): active, the schedule built from the loan's price."""
    check_move(loan, "active", "disbursed")
    if loan.status != "approved":  # delinquent -> active is catching up, not a disbursement
        raise Conflict(
            f"a {loan.status} loan cannot be disbursed; it was disbursed on {loan.disbursed_on}",
            {"loan_id": loan.id, "status": loan.status},
        )
    if day > stamp.today:
        raise invalid({"disbursed_on": ["is in the future"]})
    if loan.approved_on is not None and day < loan.approved_on:
        raise invalid({"disbursed_on": [f"is before the approval on {loan.approved_on}"]})
    if loan.annual_rate is None:
        raise Conflict("the loan has no rate: it was not priced", {"loan_id": loan.id})
    instalments = schedule.build(
        loan.approved_amount,
        loan.annual_rate,
        loan.term_months,
        loan.repayment_method,
        loan.interest_subsidy_rate or 0,
        day,
        loan.subsidy_months,
    )
    change = transition(
        loan,
        "active",
        "disbursed",
        stamp,
        note=note,
        event=LOAN_DISBURSED,
        event_amount=loan.approved_amount,
        disbursed_on=day,
    )
    return change, instalments


# -- repaying -------------------------------------------------------------------------------
def repay(
    loan: Loan,
    instalments: list[Instalment],
    amount: Decimal,
    paid_on: dt.date,
    repayment_id: str,
    stamp: Stamp,
) -> Repaid:
    """Allocated to the instalments, oldest first, interest before principal; the loan
    closes when nothing is left, and is delinquent while an instalment is overdue."""
    if loan.status not in REPAYING:
        raise Conflict(
            f"a {loan.status} loan takes no repayment", {"loan_id": loan.id, "status": loan.status}
        )
    if paid_on > stamp.today:
        raise invalid({"paid_on": ["is in the future"]})
    if loan.disbursed_on is not None and paid_on < loan.disbursed_on:
        raise invalid({"paid_on": [f"is before the disbursement on {loan.disbursed_on}"]})
    # An instalment unsettled after its due date (as of the payment) has lost its subsidy.
    instalments, _ = schedule.forfeit_overdue(instalments, paid_on)
    outstanding = schedule.totals(instalments)["outstanding"]
    if amount > outstanding:
        raise invalid({"amount": [f"is more than the {outstanding:.2f} outstanding"]})
    instalments = schedule.allocate(instalments, amount, paid_on)
    instalments, _ = schedule.forfeit_overdue(instalments, stamp.today)
    repayment = Repayment(repayment_id, loan.id, amount, paid_on, stamp.at, stamp.operator_id)
    change: Change | None
    if schedule.totals(instalments)["outstanding"] == schedule.ZERO:
        change = transition(
            loan,
            "closed",
            "closed",
            stamp,
            note="repaid",
            event=LOAN_CLOSED,
            closed_on=paid_on,
            days_overdue=0,
        )
    else:
        change = follow_delinquency(loan, instalments, stamp)
    return Repaid(repayment, instalments, change)


def follow_delinquency(loan: Loan, instalments: list[Instalment], stamp: Stamp) -> Change | None:
    """active ⇄ delinquent as instalments fall overdue or are caught up (a move), or the
    days overdue alone (no move); None when nothing changes."""
    overdue = schedule.days_overdue(instalments, stamp.today)
    target = "delinquent" if overdue else "active"
    if target != loan.status:
        return transition(
            loan,
            target,
            target,
            stamp,
            note=f"{overdue} days overdue" if overdue else "caught up",
            days_overdue=overdue,
        )
    if overdue != loan.days_overdue:
        return Change(replace(loan, days_overdue=overdue))
    return None


def sweep(
    loan: Loan, instalments: list[Instalment], stamp: Stamp
) -> tuple[list[Instalment], bool, Change | None]:
    """The hourly look at a loan being repaid: instalments unsettled after their due date
    forfeit their subsidy (→ the instalments, whether any did), and the loan follows its
    delinquency."""
    instalments, forfeited = schedule.forfeit_overdue(instalments, stamp.today)
    return instalments, forfeited, follow_delinquency(loan, instalments, stamp)


# -- extending (展期) -------------------------------------------------------------------------
def extend(
    loan: Loan,
    instalments: list[Instalment],
    product: Product | None,
    cap: dict | None,
    extra_months: int,
    note: str | None,
    stamp: Stamp,
) -> tuple[Change, list[Instalment]]:
    """An active or delinquent loan's unpaid principal re-spread over its remaining months
    plus ``extra_months`` at the same rate, with no subsidy on any instalment from the
    extension on (the rules pay none on an extended loan); the whole term within the
    product's and the borrower kind's longest (``InvalidInput`` on ``extra_months``)."""
    if loan.status not in REPAYING:
        raise Conflict(
            f"a {loan.status} loan cannot be extended; only an active or delinquent one",
            {"loan_id": loan.id, "status": loan.status},
        )
    if product is not None:
        longest = limits(product, cap)[1]
    else:  # a product no longer offered: the borrower kind's longest, else no extension
        longest = cap["max_term_months"] if cap else loan.term_months or 0
    term = (loan.term_months or 0) + loan.extended_months + extra_months
    if term > longest:
        raise invalid(
            {
                "extra_months": [
                    f"would make the term {term} months; the longest for a "
                    f"{loan.borrower_kind} borrower of this product is {longest}"
                ]
            }
        )
    instalments, _ = schedule.forfeit_overdue(instalments, stamp.today)
    instalments = [
        i if i.due_on <= stamp.today else replace(i, subsidised_interest=schedule.ZERO)
        for i in instalments
    ]
    extended = schedule.extend(
        instalments,
        loan.annual_rate or 0,
        loan.repayment_method,
        extra_months,
        stamp.today,
        loan.disbursed_on,
    )
    overdue = schedule.days_overdue(extended, stamp.today)
    moved = replace(
        loan,
        extended_months=loan.extended_months + extra_months,
        extended_on=stamp.today,
        days_overdue=overdue,
        updated_at=stamp.at,
    )
    text = f"extended by {extra_months} months" + (f": {note}" if note else "")
    history = LoanHistory(loan.id, stamp.at, loan.status, loan.status, text, stamp.operator_id)
    event = Event(
        LOAN_EXTENDED,
        {
            "loan_id": loan.id,
            "veteran_id": loan.veteran_id,
            "product_code": loan.product_code,
            "extra_months": extra_months,
        },
    )
    return Change(moved, history, (event,)), extended


# -- subsidies ------------------------------------------------------------------------------
def grant_subsidy(
    subsidy: Subsidy, granted: Decimal, cap: Decimal | None
) -> tuple[Subsidy, tuple[Event, ...]]:
    """Within ``cap`` per beneficiary, kind and period (``granted`` already), else
    ``Conflict`` with ``details {granted, cap}``; None: the kind has no cap."""
    if cap is not None and granted + subsidy.amount > cap:
        raise Conflict(
            f"a {subsidy.kind} subsidy of {subsidy.amount:.2f} would pass the "
            f"{cap:.2f} cap for {subsidy.period} ({granted:.2f} granted already)",
            {"granted": f"{schedule.money(granted):.2f}", "cap": f"{schedule.money(cap):.2f}"},
        )
    return subsidy, (
        Event(
            SUBSIDY_GRANTED,
            {
                "subsidy_id": subsidy.id,
                "veteran_id": subsidy.veteran_id,
                "enterprise_id": subsidy.enterprise_id,
                "kind": subsidy.kind,
                "amount": subsidy.amount,
            },
        ),
    )


# -- workflows ------------------------------------------------------------------------------
def require_in_house(loan: Loan, action: str) -> None:
    """The bureau approves and disburses only its in-house loans: a referral loan's partner
    bank decides and disburses (record_bank_decision, record_bank_disbursement, or the
    bank's signed HTTP)."""
    if loan.workflow != "in_house":
        raise Conflict(
            f"a {loan.workflow} loan is not {action} by the bureau: its partner bank "
            f"reports that (the {loan.workflow} workflow: record_bank_decision, "
            "record_bank_disbursement)",
            {"loan_id": loan.id, "status": loan.status, "workflow": loan.workflow},
        )
