"""The referral workflow's rules (the 2025 national 退役军人创业贷): the bureau verifies the
veteran and refers the application to a partner bank (承办银行) of the product; the bank
decides (amount, term, rate), disburses, collects and revisits. Pure functions over loans'
records, each returning the change and its events (loan_domain.Change) or raising
``InvalidInput`` / ``Conflict`` / ``NotFound``; referral.py and bank_http.py load, call them,
store and reply.

    submitted ──refer──▶ referred ──bank approves──▶ approved ──bank disburses──▶ active …
        │                   ├──bank rejects──▶ rejected
        └──withdraw─────────┴──withdraw──▶ withdrawn

From active on, the loan is repaid (loan_domain.repay) and revisited as any other."""

import datetime as dt
from dataclasses import dataclass, replace

from services.loans import loan_rules
from services.loans.domain import Loan, Product
from services.loans.loan_domain import Change, Stamp, check_move, paid_out, priced, transition
from services.loans.schedule import Instalment
from shared.contracts import Event
from shared.contracts.loans import (
    LOAN_APPROVED,
    LOAN_REFERRED,
    LOAN_REJECTED,
    LOAN_REVISIT_REPORTED,
)
from shared.errors import Conflict, NotFound, invalid

WORKFLOWS = ("in_house", "referral")
REFERRAL = "referral"
# What a bank's post-loan revisit (回访) found: codes for payloads, labels for screens.
REVISIT_OUTCOMES = {
    "operating": "正常经营",
    "struggling": "经营困难",
    "suspended": "停业",
    "closed": "已关闭",
    "not_reached": "未联系上",
}
# A revisit is of a loan the bank disbursed: repaying, or ended after disbursement.
REVISITABLE = ("active", "delinquent", "closed", "written_off")


@dataclass(frozen=True)
class Bank:
    """A partner bank (承办银行) from the products file: its code (the ``X-Bank-Code`` it
    signs as), name, the id of the key it signs with, and whether it is a demo bank."""

    code: str
    name: str
    key_id: str
    demo: bool = False


@dataclass(frozen=True)
class Revisit:
    """A bank's post-loan revisit, as it reported it."""

    id: str
    loan_id: str
    visited_on: dt.date
    outcome: str
    note: str | None
    recorded_at: dt.datetime
    recorded_by: str


def bank_operator(bank_code: str) -> str:
    """Who a bank's report is stamped as (history, logs)."""
    return f"bank:{bank_code}"


def require_referral(loan: Loan, action: str) -> None:
    """Only a referral loan is referred, or reported on by a bank."""
    if loan.workflow != REFERRAL:
        raise Conflict(
            f"a {loan.workflow} loan is not {action}: the bureau decides it "
            f"(the {loan.workflow} workflow: approve_loan, disburse_loan)",
            {"loan_id": loan.id, "status": loan.status, "workflow": loan.workflow},
        )


def reported_by(loan: Loan | None, bank_code: str, loan_id: str) -> Loan:
    """The loan, when it was referred to ``bank_code``; any other (unknown, in-house,
    another bank's) is answered alike: ``NotFound``."""
    if loan is None or loan.workflow != REFERRAL or loan.bank_code != bank_code:
        raise NotFound(f"no loan {loan_id}")
    return loan


def refer(loan: Loan, product: Product, bank_code: str, note: str | None, stamp: Stamp) -> Change:
    """The bureau verified the veteran's status and refers the application to one of the
    product's partner banks: ``loan_referred``."""
    require_referral(loan, "referred to a bank")
    if bank_code not in product.partner_banks:
        raise invalid(
            {
                "bank_code": [
                    f"is not a partner bank of {product.name}; "
                    f"its banks: {', '.join(product.partner_banks)}"
                ]
            }
        )
    change = transition(
        loan,
        "referred",
        "referred",
        stamp,
        note=note or f"referred to {bank_code}",
        bank_code=bank_code,
        referred_on=stamp.today,
    )
    event = Event(
        LOAN_REFERRED,
        {
            "loan_id": loan.id,
            "veteran_id": loan.veteran_id,
            "product_code": loan.product_code,
            "bank_code": bank_code,
        },
    )
    return replace(change, events=(event,))


def decide(
    loan: Loan,
    product: Product | None,
    decision: dict,
    stamp: Stamp,
    pricing: loan_rules.Pricing | None = None,
) -> Change:
    """The bank's decision on a referred loan. ``approved``: ``approved_amount`` (at most
    the amount applied for and the product's cap), ``term_months`` (at most the product's),
    ``annual_rate`` → ``loan_approved`` with the amount; the decision is the signing, so
    ``pricing`` (the bank's rate against the LPR in force, the subsidy rule and share in
    force: ``loan_rules.price_at``) is fixed on the loan then. ``rejected``: ``reason`` →
    ``loan_rejected``."""
    require_referral(loan, "decided by a bank")
    if decision["outcome"] == "rejected":
        check_move(loan, "rejected", "rejected")
        return transition(
            loan,
            "rejected",
            "rejected",
            stamp,
            note=decision["reason"],
            event=LOAN_REJECTED,
            reason=decision["reason"],
            closed_on=stamp.today,
        )
    check_move(loan, "approved", "approved")
    amount, term = decision["approved_amount"], decision["term_months"]
    errors = {}
    cap = min(loan.amount, product.max_principal) if product else loan.amount
    if amount > cap:
        errors["approved_amount"] = [
            f"must be at most {cap:.2f} (the {loan.amount:.2f} applied for"
            + (f", the product's cap {product.max_principal:.2f})" if product else ")")
        ]
    if product is not None and term > product.max_term_months:
        errors["term_months"] = [f"must be at most {product.max_term_months} months"]
    if errors:
        raise invalid(errors)
    return transition(
        loan,
        "approved",
        "approved",
        stamp,
        note=decision.get("note") or "approved by the bank",
        event=LOAN_APPROVED,
        event_amount=amount,
        approved_amount=amount,
        approved_on=stamp.today,
        term_months=term,
        **(
            priced(pricing, product)
            if pricing is not None
            else {"annual_rate": decision["annual_rate"]}
        ),
    )


def disburse(loan: Loan, day: dt.date, stamp: Stamp) -> tuple[Change, list[Instalment]]:
    """The bank paid the loan out on ``day`` (not in the future, not before its decision):
    active, with the schedule built from the bank's amount, term and rate and the subsidy
    share fixed at its decision; ``loan_disbursed`` with ``disbursed_on``."""
    require_referral(loan, "disbursed by a bank")
    return paid_out(loan, day, stamp, note="disbursed by the bank")


def require_repayable(loan: Loan) -> None:
    """A bank reports repayments of a referral loan (then loan_domain.repay allocates)."""
    require_referral(loan, "repaid through a bank")


def revisit(
    loan: Loan,
    visited_on: dt.date,
    outcome: str,
    note: str | None,
    revisit_id: str,
    stamp: Stamp,
) -> tuple[Revisit, tuple[Event, ...]]:
    """A post-loan revisit of a disbursed referral loan, on a day from its disbursement to
    today: ``loan_revisit_reported``."""
    require_referral(loan, "revisited by a bank")
    if loan.status not in REVISITABLE or loan.disbursed_on is None:
        raise Conflict(
            f"a {loan.status} loan has not been disbursed: nothing to revisit yet",
            {"loan_id": loan.id, "status": loan.status},
        )
    if visited_on > stamp.today:
        raise invalid({"visited_on": ["is in the future"]})
    if visited_on < loan.disbursed_on:
        raise invalid({"visited_on": [f"is before the disbursement on {loan.disbursed_on}"]})
    if outcome not in REVISIT_OUTCOMES:
        raise invalid({"outcome": [f"must be one of {', '.join(REVISIT_OUTCOMES)}"]})
    record = Revisit(revisit_id, loan.id, visited_on, outcome, note, stamp.at, stamp.operator_id)
    event = Event(
        LOAN_REVISIT_REPORTED,
        {
            "loan_id": loan.id,
            "veteran_id": loan.veteran_id,
            "visited_on": visited_on,
            "outcome": outcome,
        },
    )
    return record, (event,)
