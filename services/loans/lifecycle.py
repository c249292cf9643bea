"""The 拥军创业贷 loan lifecycle, subsidies and tax relief: a mixin of LoansService.

Each entrypoint loads (locking the loan row), asks loan_domain.py for the change, stores it
with its events in the outbox, and replies; of two concurrent approvals one wins and the
other is a ``Conflict``."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from nameko.timer import timer

from services.loans import loan_domain, loan_rules, replies, schedule, schemas
from services.loans.domain import Assessment, Loan, Product, Subsidy, VeteranFacts
from services.loans.loan_domain import Change, Stamp
from services.loans.policy import NoRule, Policy
from services.loans.products import Products
from services.loans.store import LoansStore
from shared.auth import READ, STATS, WRITE, Auth
from shared.clock import Clock
from shared.errors import Conflict, NotFound
from shared.messaging import rpc
from shared.months import last_months, span
from shared.validation import load, parse_uuid

log = structlog.get_logger(__name__)
DELINQUENCY_PAGE = 500  # loans the delinquency sweep takes into one transaction


@dataclass(frozen=True)
class Beneficiary:
    """Whom a subsidy or a tax relief is for: a veteran or an enterprise, and its county."""

    county_code: str
    veteran_id: str | None
    enterprise_id: str | None


class LoanLifecycle:
    # What the mixin uses of LoansService: its dependencies and helpers. ``store`` and
    # ``products`` as injected; ``auth`` and ``clock`` as ServiceBase declares them (a worker
    # sees a shared.auth.Caller and a shared.clock.SystemClock).
    store: LoansStore
    products: Products
    policy: Policy
    clock: Clock
    auth: Auth
    stats_scope: Callable[[str | None], tuple[str | None, list[str] | None, list[str]]]
    _visible_veteran: Callable[..., VeteranFacts | None]
    _product: Callable[[str], Product]
    _assess_many: Callable[..., list[Assessment]]
    _workflow_stats: Callable[..., dict]

    # -- applying -------------------------------------------------------------------------
    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def apply_loan(self, data):
        """A loan application (submitted). The veteran must be eligible for the product as
        of now (for the enterprise named, if any) and the amount and term within the
        product's limits; otherwise ``InvalidInput`` naming the failing criteria
        (``criteria.<code>``) or fields."""
        command = load(schemas.APPLY_INPUT, data)
        product = self._product(command["product_code"])
        # The veteran's row is locked: one application at a time.
        veteran = loan_domain.registered(
            self._visible_veteran(str(command["veteran_id"]), lock=True)
        )
        enterprise_id = str(command["enterprise_id"]) if command["enterprise_id"] else None
        kind = command["borrower_kind"]
        [assessment] = self._assess_many(
            [(veteran, None)], [product], enterprise_id=enterprise_id, borrower_kind=kind
        )
        found = loan_rules.kind_cap(self.policy, kind, self.clock.today())
        change = loan_domain.apply_for(
            product,
            veteran,
            assessment,
            self._stamp(),
            loan_id=str(uuid.uuid4()),
            amount=command["amount"],
            term_months=command["term_months"],
            purpose=command["purpose"],
            enterprise_id=enterprise_id,
            borrower_kind=kind,
            enterprise=self.store.get_enterprise(enterprise_id) if enterprise_id else None,
            cap=found[1] if found else None,
        )
        self._store(change)
        log.info(
            "loan.applied",
            loan_id=change.loan.id,
            product_code=product.code,
            county_code=change.loan.county_code,
            operator_id=self.auth.operator.id,
        )
        return self._reply(change.loan)

    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def approve_loan(self, loan_id, data=None):
        """In-house, approval is the signing: the loan is priced from the LPR in force
        today plus the product's spread, with the subsidy rule and share in force."""
        command = load(schemas.APPROVE_INPUT, data or {})
        loan = self._loan(loan_id, lock=True)
        product = self.products.get(loan.product_code)
        stamp = self._stamp()
        change = loan_domain.approve(
            loan,
            product,
            command["approved_amount"],
            command["note"],
            stamp,
            self._price(loan, product, stamp.today),
        )
        self._store(change)
        return self._reply(loan)

    @rpc(roles=WRITE, sensitive_arguments=("reason",))
    def reject_loan(self, loan_id, reason):
        reason = load(schemas.REASON_INPUT, {"reason": reason})["reason"]
        loan = self._loan(loan_id, lock=True)
        self._store(loan_domain.reject(loan, reason, self._stamp()))
        return self._reply(loan)

    @rpc(roles=WRITE)
    def withdraw_loan(self, loan_id):
        """The veteran withdraws before disbursement: announced as ``loan_closed`` with
        status ``withdrawn`` (the catalogue has no event of its own for it)."""
        loan = self._loan(loan_id, lock=True)
        self._store(loan_domain.withdraw(loan, self._stamp()))
        return self._reply(loan)

    @rpc(roles=WRITE)
    def disburse_loan(self, loan_id, data):
        """The money reaches the veteran (active): the repayment schedule is made from the
        disbursement date."""
        command = load(schemas.DISBURSE_INPUT, data)
        loan = self._loan(loan_id, lock=True)
        change, instalments = loan_domain.disburse(loan, command["disbursed_on"], self._stamp())
        self.store.save_instalments(loan.id, instalments)
        self._store(change)
        log.info(
            "loan.disbursed",
            loan_id=loan.id,
            county_code=loan.county_code,
            days_from_application=change.loan.days_to_disbursement,
            operator_id=self.auth.operator.id,
        )
        return self._reply(loan)

    @rpc(roles=WRITE)
    def record_repayment(self, loan_id, data):
        """Allocates a repayment to the instalments, oldest first, interest before
        principal; the loan closes when nothing is left, and is delinquent while an
        instalment is overdue."""
        command = load(schemas.REPAYMENT_INPUT, data)
        loan = self._loan(loan_id, lock=True)
        repaid = loan_domain.repay(
            loan,
            self.store.instalments(loan.id),
            command["amount"],
            command["paid_on"],
            str(uuid.uuid4()),
            self._stamp(),
        )
        self.store.save_instalments(loan.id, repaid.instalments)
        self.store.add_repayment(repaid.repayment)
        self._store(repaid.change)
        return self.get_loan(loan.id)

    @rpc(roles=WRITE, sensitive_arguments=("reason",))
    def write_off_loan(self, loan_id, reason):
        reason = load(schemas.REASON_INPUT, {"reason": reason})["reason"]
        loan = self._loan(loan_id, lock=True)
        self._store(loan_domain.write_off(loan, reason, self._stamp()))
        return self._reply(loan)

    @timer(interval=3600)
    def mark_delinquency(self):
        """Hourly: a loan with an instalment overdue becomes delinquent (and back to
        active once it is caught up), with its days overdue. Every loan being repaid, a
        page at a time in id order (keyset), each page locked (SKIP LOCKED) and committed
        in its own transaction."""
        moved, after = 0, None
        while True:
            loans = self.store.repaying_loans(after, DELINQUENCY_PAGE)
            if not loans:
                return moved
            schedules = self.store.instalments_of([loan.id for loan in loans])
            stamp = self._stamp()
            for loan in loans:
                # An instalment found unsettled after its due date forfeits its subsidy.
                instalments, forfeited, change = loan_domain.sweep(loan, schedules[loan.id], stamp)
                if forfeited:
                    self.store.save_instalments(loan.id, instalments)
                self._store(change)
                moved += bool(change and change.moved)
            self.store.commit()
            after = loans[-1].id

    @rpc(roles=WRITE)
    def extend_loan(self, loan_id, data):
        """展期: an active or delinquent loan's unpaid principal re-spread over its
        remaining months plus ``extra_months`` at the same rate; no subsidy from then on.
        The whole term stays within the product's and the borrower kind's longest."""
        command = load(schemas.EXTEND_INPUT, data)
        loan = self._loan(loan_id, lock=True)
        found = loan_rules.kind_cap(self.policy, loan.borrower_kind, self.clock.today())
        change, instalments = loan_domain.extend(
            loan,
            self.store.instalments(loan.id),
            self.products.get(loan.product_code),
            found[1] if found else None,
            command["extra_months"],
            command["note"],
            self._stamp(),
        )
        self.store.save_instalments(loan.id, instalments)
        self._store(change)
        log.info(
            "loan.extended",
            loan_id=loan.id,
            extra_months=command["extra_months"],
            operator_id=self.auth.operator.id,
        )
        return self.get_loan(loan.id)

    # -- reading --------------------------------------------------------------------------
    @rpc(roles=READ)
    def get_loan(self, loan_id):
        """The loan with its schedule, paid and outstanding amounts, the subsidised
        interest, days from application to disbursement, repayments and history."""
        loan = self._loan(loan_id)
        instalments = self.store.instalments(loan.id)
        today = self.clock.today()
        overdue = (
            schedule.days_overdue(instalments, today) if loan.status in loan_domain.REPAYING else 0
        )
        return replies.present_loan_details(
            loan,
            instalments,
            self.store.repayments(loan.id),
            self.store.loan_history(loan.id),
            overdue,
            today,
            self._pricing(loan),
        )

    @rpc(roles=READ)
    def loans_for(self, veteran_id):
        veteran_id = str(parse_uuid(veteran_id, "veteran_id"))
        if self._visible_veteran(veteran_id) is None:
            return []
        return [replies.present_loan(loan) for loan in self.store.loans_of(veteran_id)]

    # -- subsidies and tax relief ---------------------------------------------------------
    @rpc(roles=WRITE)
    def grant_subsidy(self, data):
        """A subsidy to a veteran or an enterprise, within the configured cap per
        beneficiary, kind and year (a grant past it is ``Conflict``)."""
        command = load(schemas.SUBSIDY_INPUT, data)
        beneficiary = self._beneficiary(command)
        kind, period = command["kind"], command["period"]
        self.store.lock_beneficiary(
            kind, period, beneficiary.veteran_id or beneficiary.enterprise_id
        )
        granted = self.store.granted(
            kind, period, beneficiary.veteran_id, beneficiary.enterprise_id
        )
        subsidy, events = loan_domain.grant_subsidy(
            Subsidy(
                id=str(uuid.uuid4()),
                kind=kind,
                veteran_id=beneficiary.veteran_id,
                enterprise_id=beneficiary.enterprise_id,
                county_code=beneficiary.county_code,
                amount=command["amount"],
                period=period,
                note=command["note"],
                granted_at=self.clock.now(),
                granted_by=self.auth.operator.id,
            ),
            granted,
            self.products.subsidy_caps.get(kind),
        )
        self.store.add_subsidy(subsidy)
        self.store.emit(*events)
        log.info(
            "subsidy.granted",
            subsidy_id=subsidy.id,
            kind=kind,
            county_code=subsidy.county_code,
            operator_id=self.auth.operator.id,
        )
        return replies.present_subsidy(subsidy)

    # -- statistics -----------------------------------------------------------------------
    @rpc(roles=STATS)
    def stats(self, county_code=None):
        county_code, counties, listed = self.stats_scope(county_code)
        figures, by_kind = self.store.stats(counties)
        months = last_months(self.clock.today())
        by_month = self.store.disbursed_by_month(counties, *span(months))
        return {
            **replies.present_stats(county_code, listed, figures, by_kind),
            "by_month": replies.present_by_month(months, by_month),
            "by_workflow": self._workflow_stats(counties),  # referral.py
        }

    # -- helpers --------------------------------------------------------------------------
    def _stamp(self) -> Stamp:
        return Stamp(self.clock.now(), self.clock.today(), self.auth.operator.id)

    def _price(
        self, loan: Loan, product: Product | None, day, rate=None
    ) -> loan_rules.Pricing | None:
        """The price of a loan signed on ``day`` (None for a product no longer offered:
        it keeps the rate it was applied with), at ``rate`` when a partner bank set it;
        ``Conflict`` when no LPR or subsidy rule is in force then (the bureau enters them
        in policy.yaml)."""
        if product is None:
            return None
        try:
            return loan_rules.price_at(
                self.policy, product, day, self.store.discharged_on(loan.veteran_id), rate
            )
        except NoRule as exc:
            raise Conflict(f"the loan cannot be priced: {exc}", {"loan_id": loan.id}) from None

    def _pricing(self, loan: Loan) -> dict | None:
        """The loan's price as ``get_loan`` shows it, each rule cited; None before it is
        priced."""
        if loan.lpr_entry is None:
            return None

        def cite(section, entry_id):
            try:
                return self.policy.find(section, entry_id).cite()
            except NoRule:  # an entry since removed from the file: its id only
                return {"id": entry_id}

        return replies.present_pricing(
            loan, cite("lpr", loan.lpr_entry), cite("loan_subsidy", loan.subsidy_rule)
        )

    def _loan(self, loan_id, lock=False) -> Loan:
        loan = self.store.get_loan(parse_uuid(loan_id, "loan_id"), lock=lock)
        if loan is None or not self.auth.may_see(loan.county_code):
            raise NotFound(f"no loan {loan_id}")
        return loan

    def _store(self, change: Change | None) -> None:
        """Writes a change to a loan (its row, its history line), puts its events in the
        outbox, and assesses the veteran again when it starts or ends an active loan."""
        if change is None:
            return
        if change.applied:
            self.store.add_loan(change.loan)
        else:
            self.store.update_loan(change.loan)
        if change.history is not None:
            self.store.add_loan_history(change.history)
        if change.moved and not change.applied:
            log.info(
                "loan.moved",
                loan_id=change.loan.id,
                status=change.loan.status,
                operator_id=self.auth.operator.id,
            )
        self.store.emit(*change.events)
        if change.changes_eligibility:
            self._reassess(change.loan)

    def _reply(self, loan: Loan) -> dict:
        """The loan as stored now."""
        return replies.present_loan(self._loan(loan.id))

    def _reassess(self, loan: Loan) -> None:
        """Eligibility for the product again: an application, or its end, changes it."""
        product = self.products.get(loan.product_code)
        veteran = self.store.get_veteran(loan.veteran_id)
        if product is not None and veteran is not None:
            self._assess_many([(veteran, None)], [product])

    def _beneficiary(self, command) -> Beneficiary:
        """A known veteran or enterprise the caller may serve (one outside the caller's
        counties is answered as unknown)."""
        if command["veteran_id"] is not None:
            veteran_id = str(command["veteran_id"])
            veteran = self._visible_veteran(veteran_id)
            if veteran is None:
                raise NotFound(f"loans has no veteran {veteran_id}")
            return Beneficiary(veteran.county_code, veteran_id, None)
        enterprise_id = str(command["enterprise_id"])
        enterprise = self.store.get_enterprise(enterprise_id)
        if enterprise is None or not self.auth.may_see(enterprise.county_code):
            raise NotFound(f"loans has no enterprise {enterprise_id}")
        return Beneficiary(enterprise.county_code, None, enterprise_id)
