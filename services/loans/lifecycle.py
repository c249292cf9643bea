"""The 拥军创业贷 loan lifecycle, subsidies and tax relief: a mixin of LoansService.

States follow Apache Fineract: submitted → approved | rejected | withdrawn; approved →
active (disbursed) | withdrawn; active ⇄ delinquent; → closed (repaid) | written_off. Every
transition locks the loan row, checks the move, writes history and emits its event, so of
two concurrent approvals one wins and the other is a ``Conflict``."""
import datetime as dt
import uuid

import structlog
from nameko.timer import timer

from services.loans import domain, schedule, schemas
from shared.auth import READ, STATS, WRITE
from shared.contracts import Event
from shared.contracts.loans import (LOAN_APPLIED, LOAN_APPROVED, LOAN_CLOSED, LOAN_DISBURSED,
                                    LOAN_REJECTED, SUBSIDY_GRANTED)
from shared.errors import Conflict, NotFound
from shared.messaging import rpc
from shared.validation import invalid, load, parse_uuid

log = structlog.get_logger(__name__)
DELINQUENCY_PAGE = 500  # loans the delinquency sweep takes into one transaction


class LoanLifecycle:
    # -- applying -------------------------------------------------------------------------
    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def apply_loan(self, data):
        """A loan application (submitted). The veteran must be eligible for the product as
        of now (for the enterprise named, if any) and the amount and term within the
        product's limits; otherwise ``InvalidInput`` naming the failing criteria
        (``criteria.<code>``) or fields."""
        command = load(schemas.APPLY_INPUT, data)
        product = self._product(command["product_code"])
        veteran_id = str(command["veteran_id"])
        veteran = self._visible_veteran(veteran_id, lock=True)  # one application at a time
        if veteran is None:
            raise invalid({"criteria.registered_veteran": ["not found among registered veterans"]})
        errors = {}
        if not product.min_principal <= command["amount"] <= product.max_principal:
            errors["amount"] = [f"must be between {product.min_principal} and "
                                f"{product.max_principal} for {product.name}"]
        if command["term_months"] > product.max_term_months:
            errors["term_months"] = [f"must be at most {product.max_term_months} months for "
                                     f"{product.name}"]
        enterprise_id = str(command["enterprise_id"]) if command["enterprise_id"] else None
        [assessment] = self._assess_many([(veteran, None)], [product], enterprise_id=enterprise_id)
        for criterion in assessment.criteria:
            if not criterion.passed:
                errors[f"criteria.{criterion.code}"] = [criterion.detail]
        if errors:
            raise invalid(errors)
        now, today = self.clock.now(), self.clock.today()
        loan = {"id": str(uuid.uuid4()), "veteran_id": veteran_id,
                "product_code": product.code, "status": "submitted",
                "amount": command["amount"], "created_at": now,
                "county_code": veteran.county_code, "enterprise_id": enterprise_id,
                "term_months": command["term_months"], "purpose": command["purpose"],
                "annual_rate": product.annual_rate,
                "interest_subsidy_rate": product.interest_subsidy_rate,
                "repayment_method": product.repayment_method, "submitted_on": today,
                "updated_at": now, "created_by": self.auth.operator.id}
        self.store.add_loan(loan)
        self.store.add_loan_history(loan["id"], now, None, "submitted", None,
                                    self.auth.operator.id)
        self.store.emit(domain.loan_event(LOAN_APPLIED, loan))
        self._reassess(loan)  # an active loan now: no second one of the product
        log.info("loan.applied", loan_id=loan["id"], product_code=product.code,
                 county_code=loan["county_code"], operator_id=self.auth.operator.id)
        return self._present_loan(self.store.get_loan(loan["id"]))

    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def approve_loan(self, loan_id, data=None):
        command = load(schemas.APPROVE_INPUT, data or {})
        loan = self._loan(loan_id, lock=True)
        self._check_move(loan, "approved", "approved")
        amount = command["approved_amount"] or loan["amount"]
        product = self.products.get(loan["product_code"])
        floor = product.min_principal if product else schedule.ZERO
        if not floor <= amount <= loan["amount"]:
            raise invalid({"approved_amount": [f"must be between {floor} and the "
                                               f"{loan['amount']} applied for"]})
        self._move(loan, "approved", command["note"], approved_amount=amount,
                   approved_on=self.clock.today())
        loan = self.store.get_loan(loan["id"])
        self.store.emit(domain.loan_event(LOAN_APPROVED, loan, amount))
        return self._present_loan(loan)

    @rpc(roles=WRITE, sensitive_arguments=("reason",))
    def reject_loan(self, loan_id, reason):
        reason = load(schemas.REASON_INPUT, {"reason": reason})["reason"]
        loan = self._loan(loan_id, lock=True)
        self._check_move(loan, "rejected", "rejected")
        self._move(loan, "rejected", reason, reason=reason, closed_on=self.clock.today())
        loan = self.store.get_loan(loan["id"])
        self.store.emit(domain.loan_event(LOAN_REJECTED, loan))
        self._reassess(loan)
        return self._present_loan(loan)

    @rpc(roles=WRITE)
    def withdraw_loan(self, loan_id):
        """The veteran withdraws before disbursement: announced as ``loan_closed`` with
        status ``withdrawn`` (the catalogue has no event of its own for it)."""
        loan = self._loan(loan_id, lock=True)
        self._check_move(loan, "withdrawn", "withdrawn")
        self._move(loan, "withdrawn", None, closed_on=self.clock.today())
        loan = self.store.get_loan(loan["id"])
        self.store.emit(domain.loan_event(LOAN_CLOSED, loan))
        self._reassess(loan)
        return self._present_loan(loan)

    @rpc(roles=WRITE)
    def disburse_loan(self, loan_id, data):
        """The money reaches the veteran (active): the repayment schedule is made from the
        disbursement date."""
        command = load(schemas.DISBURSE_INPUT, data)
        loan = self._loan(loan_id, lock=True)
        self._check_move(loan, "active", "disbursed")
        day = command["disbursed_on"]
        if day > self.clock.today():
            raise invalid({"disbursed_on": ["is in the future"]})
        if day < loan["approved_on"]:
            raise invalid({"disbursed_on": [f"is before the approval on {loan['approved_on']}"]})
        instalments = schedule.build(loan["approved_amount"], loan["annual_rate"],
                                     loan["term_months"], loan["repayment_method"],
                                     loan["interest_subsidy_rate"], day)
        self.store.save_instalments(loan["id"], instalments)
        self._move(loan, "active", None, disbursed_on=day)
        loan = self.store.get_loan(loan["id"])
        self.store.emit(domain.loan_event(LOAN_DISBURSED, loan, loan["approved_amount"]))
        log.info("loan.disbursed", loan_id=loan["id"], county_code=loan["county_code"],
                 days_from_application=(day - loan["submitted_on"]).days,
                 operator_id=self.auth.operator.id)
        return self._present_loan(loan)

    @rpc(roles=WRITE)
    def record_repayment(self, loan_id, data):
        """Allocates a repayment to the instalments, oldest first, interest before
        principal; the loan closes when nothing is left, and is delinquent while an
        instalment is overdue."""
        command = load(schemas.REPAYMENT_INPUT, data)
        loan = self._loan(loan_id, lock=True)
        if loan["status"] not in domain.REPAYING:
            raise Conflict(f"a {loan['status']} loan takes no repayment",
                           {"loan_id": loan["id"], "status": loan["status"]})
        today = self.clock.today()
        if command["paid_on"] > today:
            raise invalid({"paid_on": ["is in the future"]})
        if command["paid_on"] < loan["disbursed_on"]:
            raise invalid({"paid_on": [f"is before the disbursement on {loan['disbursed_on']}"]})
        instalments = self.store.instalments(loan["id"])
        outstanding = schedule.totals(instalments)["outstanding"]
        if command["amount"] > outstanding:
            raise invalid({"amount": [f"is more than the {outstanding:.2f} outstanding"]})
        instalments = schedule.allocate(instalments, command["amount"], command["paid_on"])
        self.store.save_instalments(loan["id"], instalments)
        self.store.add_repayment({"id": str(uuid.uuid4()), "loan_id": loan["id"],
                                  "amount": command["amount"], "paid_on": command["paid_on"],
                                  "recorded_at": self.clock.now(),
                                  "recorded_by": self.auth.operator.id})
        if schedule.totals(instalments)["outstanding"] == schedule.ZERO:
            self._move(loan, "closed", "repaid", closed_on=command["paid_on"], days_overdue=0)
            loan = self.store.get_loan(loan["id"])
            self.store.emit(domain.loan_event(LOAN_CLOSED, loan))
            self._reassess(loan)
        else:
            self._follow_delinquency(loan, instalments, today)
        return self.get_loan(loan["id"])

    @rpc(roles=WRITE, sensitive_arguments=("reason",))
    def write_off_loan(self, loan_id, reason):
        reason = load(schemas.REASON_INPUT, {"reason": reason})["reason"]
        loan = self._loan(loan_id, lock=True)
        self._check_move(loan, "written_off", "written off")
        self._move(loan, "written_off", reason, reason=reason, closed_on=self.clock.today())
        loan = self.store.get_loan(loan["id"])
        self.store.emit(domain.loan_event(LOAN_CLOSED, loan))
        self._reassess(loan)
        return self._present_loan(loan)

    @timer(interval=3600)
    def mark_delinquency(self):
        """Hourly: a loan with an instalment overdue becomes delinquent (and back to
        active once it is caught up), with its days overdue. Every loan being repaid, a
        page at a time in id order (keyset), each page locked (SKIP LOCKED) and committed
        in its own transaction."""
        today, moved, after = self.clock.today(), 0, None
        while True:
            loans = self.store.repaying_loans(after, DELINQUENCY_PAGE)
            if not loans:
                return moved
            schedules = self.store.instalments_of([loan["id"] for loan in loans])
            for loan in loans:
                moved += self._follow_delinquency(loan, schedules[loan["id"]], today)
            self.store.commit()
            after = loans[-1]["id"]

    # -- reading --------------------------------------------------------------------------
    @rpc(roles=READ)
    def get_loan(self, loan_id):
        """The loan with its schedule, paid and outstanding amounts, the subsidised
        interest, days from application to disbursement, repayments and history."""
        loan = self._loan(loan_id)
        instalments = self.store.instalments(loan["id"])
        today = self.clock.today()
        overdue = schedule.days_overdue(instalments, today) if loan["status"] in domain.REPAYING else 0
        figures = schedule.totals(instalments)
        return {
            **self._present_loan(loan),
            "days_overdue": overdue,
            "schedule": [{
                "number": i.number, "due_on": i.due_on.isoformat(),
                "principal": _m(i.principal), "interest": _m(i.interest),
                "subsidised_interest": _m(i.subsidised_interest), "due": _m(i.due),
                "paid": _m(i.paid_principal + i.paid_interest), "outstanding": _m(i.outstanding),
                "paid_on": i.paid_on.isoformat() if i.paid_on else None,
                "overdue": not i.settled and i.due_on < today} for i in instalments],
            "totals": {key: _m(value) for key, value in figures.items()},
            "repayments": [{"id": str(r["id"]), "amount": _m(r["amount"]),
                            "paid_on": r["paid_on"].isoformat()}
                           for r in self.store.repayments(loan["id"])],
            "history": [{**row, "at": row["at"].isoformat()}
                        for row in self.store.loan_history(loan["id"])],
        }

    @rpc(roles=READ)
    def loans_for(self, veteran_id):
        veteran_id = str(parse_uuid(veteran_id, "veteran_id"))
        if self._visible_veteran(veteran_id) is None:
            return []
        return [self._present_loan(loan) for loan in self.store.loans_of(veteran_id)]

    # -- subsidies and tax relief ---------------------------------------------------------
    @rpc(roles=WRITE)
    def grant_subsidy(self, data):
        """A subsidy to a veteran or an enterprise, within the configured cap per
        beneficiary, kind and year (a grant past it is ``Conflict``)."""
        command = load(schemas.SUBSIDY_INPUT, data)
        county, veteran_id, enterprise_id = self._beneficiary(command)
        kind, period = command["kind"], command["period"]
        self.store.lock_beneficiary(kind, period, veteran_id or enterprise_id)
        cap = self.products.subsidy_caps.get(kind)
        if cap is not None:
            granted = self.store.granted(kind, period, veteran_id, enterprise_id)
            if granted + command["amount"] > cap:
                raise Conflict(f"a {kind} subsidy of {command['amount']:.2f} would pass the "
                               f"{cap:.2f} cap for {period} ({granted:.2f} granted already)",
                               {"granted": _m(granted), "cap": _m(cap)})
        subsidy = {"id": str(uuid.uuid4()), "kind": kind, "veteran_id": veteran_id,
                   "enterprise_id": enterprise_id, "county_code": county,
                   "amount": command["amount"], "period": period, "note": command["note"],
                   "granted_at": self.clock.now(), "granted_by": self.auth.operator.id}
        self.store.add_subsidy(subsidy)
        self.store.emit(Event(SUBSIDY_GRANTED, {
            "subsidy_id": subsidy["id"], "veteran_id": veteran_id, "enterprise_id": enterprise_id,
            "kind": kind, "amount": command["amount"]}))
        log.info("subsidy.granted", subsidy_id=subsidy["id"], kind=kind, county_code=county,
                 operator_id=self.auth.operator.id)
        return {**{k: v for k, v in subsidy.items() if k not in ("granted_by",)},
                "amount": _m(subsidy["amount"]), "granted_at": subsidy["granted_at"].isoformat()}

    @rpc(roles=WRITE)
    def record_tax_relief(self, data):
        command = load(schemas.TAX_RELIEF_INPUT, data, today=self.clock.today())
        county, veteran_id, enterprise_id = self._beneficiary(command)
        relief = {"id": str(uuid.uuid4()), "veteran_id": veteran_id,
                  "enterprise_id": enterprise_id, "county_code": county,
                  "tax_year": command["tax_year"], "amount": command["amount"],
                  "policy": command["policy"], "recorded_at": self.clock.now(),
                  "recorded_by": self.auth.operator.id}
        self.store.add_tax_relief(relief)
        log.info("tax_relief.recorded", tax_relief_id=relief["id"], county_code=county,
                 operator_id=self.auth.operator.id)
        return {**{k: v for k, v in relief.items() if k != "recorded_by"},
                "amount": _m(relief["amount"]), "recorded_at": relief["recorded_at"].isoformat()}

    # -- statistics -----------------------------------------------------------------------
    @rpc(roles=STATS)
    def stats(self, county_code=None):
        county_code, counties, listed = self.stats_scope(county_code)
        figures, by_kind = self.store.stats(counties)
        median = figures.pop("median_days_to_disbursement")
        return {
            "county_code": county_code, "counties": listed,
            **{k: int(figures[k]) for k in ("eligible_veterans", "applications", "approvals",
                                             "disbursed", "delinquent")},
            "disbursed_amount": _m(figures["disbursed_amount"]),
            "outstanding_principal": _m(figures["outstanding_principal"]),
            "median_days_to_disbursement": None if median is None else float(median),
            "subsidies": {kind: {"count": int(by_kind[kind]["n"]) if kind in by_kind else 0,
                                 "amount": _m(by_kind[kind]["total"]) if kind in by_kind
                                 else "0.00"} for kind in schemas.SUBSIDY_KINDS},
            "tax_relief_total": _m(figures["tax_relief_total"]),
        }

    # -- helpers --------------------------------------------------------------------------
    def _loan(self, loan_id, lock=False):
        loan = self.store.get_loan(parse_uuid(loan_id, "loan_id"), lock=lock)
        if loan is None or not self.auth.may_see(loan["county_code"]):
            raise NotFound(f"no loan {loan_id}")
        return loan

    @staticmethod
    def _check_move(loan, target, action):
        if target not in domain.LOAN_MOVES.get(loan["status"], set()):
            raise Conflict(domain.illegal_loan_move(loan["status"], target, action),
                           {"loan_id": loan["id"], "status": loan["status"]})

    def _move(self, loan, target, note, **changes):
        now = self.clock.now()
        self.store.update_loan(loan["id"], status=target, updated_at=now, **changes)
        self.store.add_loan_history(loan["id"], now, loan["status"], target, note,
                                    self.auth.operator.id)
        log.info("loan.moved", loan_id=loan["id"], status=target,
                 operator_id=self.auth.operator.id)

    def _follow_delinquency(self, loan, instalments, today):
        """active ⇄ delinquent as instalments fall overdue or are caught up; 1 if moved."""
        overdue = schedule.days_overdue(instalments, today)
        target = "delinquent" if overdue else "active"
        if target != loan["status"]:
            self._move(loan, target, f"{overdue} days overdue" if overdue else "caught up",
                       days_overdue=overdue)
            return 1
        if overdue != loan["days_overdue"]:
            self.store.update_loan(loan["id"], days_overdue=overdue)
        return 0

    def _reassess(self, loan):
        """Eligibility for the product again: an application, or its end, changes it."""
        product = self.products.get(loan["product_code"])
        veteran = self.store.get_veteran(loan["veteran_id"])
        if product is not None and veteran is not None:
            self._assess_many([(veteran, None)], [product])

    def _beneficiary(self, command):
        """(county, veteran_id, enterprise_id) of a known veteran or enterprise the caller
        may serve (one outside the caller's counties is answered as unknown)."""
        if command["veteran_id"] is not None:
            veteran_id = str(command["veteran_id"])
            veteran = self._visible_veteran(veteran_id)
            if veteran is None:
                raise NotFound(f"loans has no veteran {veteran_id}")
            return veteran.county_code, veteran_id, None
        enterprise_id = str(command["enterprise_id"])
        enterprise = self.store.get_enterprise(enterprise_id)
        if enterprise is None or not self.auth.may_see(enterprise[1]):
            raise NotFound(f"loans has no enterprise {enterprise_id}")
        return enterprise[1], None, enterprise_id

    def _present_loan(self, loan):
        out = {}
        for key, value in loan.items():
            if key in ("amount", "approved_amount"):
                value = None if value is None else _m(value)
            elif key in ("annual_rate", "interest_subsidy_rate"):
                value = None if value is None else str(value.normalize())
            elif isinstance(value, (dt.date, dt.datetime)):
                value = value.isoformat()
            out[key] = value
        disbursed, submitted = loan.get("disbursed_on"), loan.get("submitted_on")
        out["days_to_disbursement"] = (disbursed - submitted).days if disbursed and submitted \
            else None
        return out


def _m(value):
    return f"{schedule.money(value):.2f}"
