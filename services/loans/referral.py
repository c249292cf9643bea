"""The referral workflow's entrypoints, a mixin of LoansService: the bureau refers a
verified application to a partner bank (``refer_loan``), and an operator enters the bank's
reports by hand (``record_bank_decision``, ``record_bank_disbursement``,
``record_bank_repayment``, ``record_bank_revisit``). The bank's own signed HTTP
(bank_http.py) goes through the same ``_bank_*`` steps: load (locking the loan row) →
referral_domain → store (+ outbox) → reply."""

import uuid
from collections.abc import Callable
from decimal import Decimal

import structlog

from services.loans import loan_domain, referral_domain, replies
from services.loans import referral_schemas as schemas
from services.loans.domain import Loan
from services.loans.loan_domain import Change, Stamp
from services.loans.loan_rules import Pricing
from services.loans.products import Products
from services.loans.store import LoansStore
from shared.auth import WRITE, Auth
from shared.clock import Clock
from shared.errors import Conflict
from shared.messaging import rpc
from shared.validation import load

log = structlog.get_logger(__name__)


class LoanReferral:
    # What the mixin uses of LoansService and LoanLifecycle.
    store: LoansStore
    products: Products
    clock: Clock
    auth: Auth
    _loan: Callable[..., Loan]
    _store: Callable[[Change | None], None]
    _reply: Callable[[Loan], dict]
    _stamp: Callable[[], Stamp]
    _price: Callable[..., Pricing | None]
    get_loan: Callable[..., dict]

    # -- the bureau -----------------------------------------------------------------------
    @rpc(roles=WRITE)
    def refer_loan(self, loan_id, data):
        """The bureau verified the veteran's status: the submitted application goes to a
        partner bank of its product (``{bank_code, note}``) → ``referred``,
        ``loan_referred``. An in-house product's loan is ``Conflict``."""
        command = load(schemas.REFER_INPUT, data)
        loan = self._loan(loan_id, lock=True)
        product = self.products.get(loan.product_code)
        if product is None:
            raise Conflict(
                f"product {loan.product_code} is no longer offered", {"loan_id": loan.id}
            )
        change = referral_domain.refer(
            loan, product, command["bank_code"], command["note"], self._stamp()
        )
        self._store(change)
        log.info(
            "loan.referred",
            loan_id=loan.id,
            bank_code=command["bank_code"],
            county_code=loan.county_code,
            operator_id=self.auth.operator.id,
        )
        return self._reply(loan)

    # -- the bank's reports, entered by an operator ---------------------------------------
    @rpc(roles=WRITE)
    def record_bank_decision(self, loan_id, data):
        """``{outcome: approved, approved_amount, term_months, annual_rate, note}`` or
        ``{outcome: rejected, reason}`` for a referred loan."""
        loan = self._bank_decision(self._loan(loan_id, lock=True), data, self._stamp())
        return self._reply(loan)

    @rpc(roles=WRITE)
    def record_bank_disbursement(self, loan_id, data):
        """``{disbursed_on}``: active, the schedule from the bank's amount, term and rate."""
        loan = self._bank_disbursement(self._loan(loan_id, lock=True), data, self._stamp())
        return self._reply(loan)

    @rpc(roles=WRITE)
    def record_bank_repayment(self, loan_id, data):
        """``{amount, paid_on}``, allocated as ``record_repayment`` allocates → the loan as
        ``get_loan``."""
        loan = self._bank_repayment(self._loan(loan_id, lock=True), data, self._stamp())
        return self.get_loan(loan.id)

    @rpc(roles=WRITE)
    def record_bank_revisit(self, loan_id, data):
        """``{visited_on, outcome, note}`` → the revisit, ``loan_revisit_reported``."""
        revisit = self._bank_revisit(self._loan(loan_id, lock=True), data, self._stamp())
        return present_revisit(revisit)

    @rpc(roles=WRITE)
    def loan_revisits(self, loan_id):
        """The bank's revisits of a loan, oldest first."""
        loan = self._loan(loan_id)
        return [
            {**row, "visited_on": row["visited_on"].isoformat()}
            for row in self.store.revisits(loan.id)
        ]

    # -- the steps both ways share ----------------------------------------------------------
    def _bank_decision(self, loan: Loan, data, stamp: Stamp) -> Loan:
        command = load(schemas.DECISION_INPUT, data)
        product = self.products.get(loan.product_code)
        pricing = (
            self._price(loan, product, stamp.today, command["annual_rate"])
            if command["outcome"] == "approved"
            else None
        )
        change = referral_domain.decide(loan, product, command, stamp, pricing)
        self._store(change)
        log.info(
            "loan.bank_decided",
            loan_id=loan.id,
            bank_code=loan.bank_code,
            outcome=command["outcome"],
            operator_id=stamp.operator_id,
        )
        return change.loan

    def _bank_disbursement(self, loan: Loan, data, stamp: Stamp) -> Loan:
        command = load(schemas.DISBURSEMENT_INPUT, data, today=stamp.today)
        change, instalments = referral_domain.disburse(loan, command["disbursed_on"], stamp)
        self.store.save_instalments(loan.id, instalments)
        self._store(change)
        log.info(
            "loan.bank_disbursed",
            loan_id=loan.id,
            bank_code=loan.bank_code,
            days_from_application=change.loan.days_to_disbursement,
            operator_id=stamp.operator_id,
        )
        return change.loan

    def _bank_repayment(self, loan: Loan, data, stamp: Stamp) -> Loan:
        command = load(schemas.REPAYMENT_INPUT, data, today=stamp.today)
        referral_domain.require_repayable(loan)
        repaid = loan_domain.repay(
            loan,
            self.store.instalments(loan.id),
            command["amount"],
            command["paid_on"],
            str(uuid.uuid4()),
            stamp,
        )
        self.store.save_instalments(loan.id, repaid.instalments)
        self.store.add_repayment(repaid.repayment)
        self._store(repaid.change)
        return repaid.change.loan if repaid.change else loan

    def _bank_revisit(self, loan: Loan, data, stamp: Stamp) -> referral_domain.Revisit:
        command = load(schemas.REVISIT_INPUT, data, today=stamp.today)
        revisit, events = referral_domain.revisit(
            loan,
            command["visited_on"],
            command["outcome"],
            command["note"],
            str(uuid.uuid4()),
            stamp,
        )
        self.store.add_revisit(revisit)
        self.store.emit(*events)
        log.info(
            "loan.revisit_reported",
            loan_id=loan.id,
            outcome=revisit.outcome,
            operator_id=stamp.operator_id,
        )
        return revisit

    def _workflow_stats(self, counties) -> dict:
        """``stats``' ``by_workflow``: loans by how they are decided."""
        rows = self.store.stats_by_workflow(counties)
        in_house = rows.get("in_house", {})
        referral = rows.get("referral", {})
        return {
            "in_house": {
                "applications": int(in_house.get("applications", 0)),
                "disbursed": int(in_house.get("disbursed", 0)),
                "disbursed_amount": replies.money(in_house.get("disbursed_amount", Decimal(0))),
            },
            "referral": {
                "applications": int(referral.get("applications", 0)),
                "referred": int(referral.get("referred", 0)),
                "approved": int(referral.get("approved", 0)),
                "disbursed": int(referral.get("disbursed", 0)),
                "disbursed_amount": replies.money(referral.get("disbursed_amount", Decimal(0))),
            },
        }


def present_revisit(revisit: referral_domain.Revisit) -> dict:
    return {
        "revisit_id": revisit.id,
        "loan_id": revisit.loan_id,
        "visited_on": revisit.visited_on.isoformat(),
        "outcome": revisit.outcome,
    }
