"""Tax relief (退役士兵创业就业税收优惠) computed by the rules in force: a mixin of
LoansService with jobs' hires (a projection), ``tax_relief_entitlement`` and
``record_tax_relief``. Load → relief_domain → store (+ outbox) → reply."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from services.loans import relief_domain, schemas
from services.loans.domain import VeteranFacts
from services.loans.policy import Policy
from services.loans.store import LoansStore
from shared.auth import READ, WRITE, Auth
from shared.clock import Clock
from shared.contracts.jobs import VETERAN_HIRED
from shared.errors import NotFound
from shared.messaging import batch_event_handler, rpc
from shared.validation import load

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Account:
    """Whose relief, in which county, the locks that serialise records against it, and
    how to compute its entitlement (reading what is used when called)."""

    subject: dict
    county_code: str
    lock_keys: tuple[str, ...]
    compute: Callable[[int], relief_domain.Entitlement]


class TaxReliefs:
    # What the mixin uses of LoansService (as LoanLifecycle declares them).
    store: LoansStore
    clock: Clock
    auth: Auth
    _visible_veteran: Callable[..., VeteranFacts | None]
    policy: Policy  # LoansService's PolicyTable

    # -- jobs' hires (projection) ---------------------------------------------------------
    @batch_event_handler("jobs", VETERAN_HIRED)
    def on_veteran_hired(self, events):
        """Each hire's terms, for its employer's relief (no employer name is kept)."""
        hires = {}
        for event in events:
            data = event.data
            hires[data["application_id"]] = relief_domain.Hire(
                hire_id=data["application_id"],
                veteran_id=data["veteran_id"],
                employer_id=data["employer_id"],
                county_code=data["county_code"],
                started_on=data["started_on"],
                contract_months=data.get("contract_months"),
                social_insurance=bool(data.get("social_insurance")),
                insured_from=data.get("insured_from"),
            )
        self.store.save_hires(hires.values(), self.clock.now())
        log.info("hires.projected", hires=len(hires))

    # -- queries --------------------------------------------------------------------------
    @rpc(roles=READ)
    def tax_relief_entitlement(self, subject, year):
        """``subject``: ``{"veteran_id"}`` (self-employed), ``{"enterprise_id"}`` (a booklet
        individual business) or ``{"employer_id"}`` (jobs' employer); ``year``: the tax
        year. Cap, months, used and remaining, criterion by criterion, naming the rules."""
        command = load(schemas.RELIEF_SUBJECT_INPUT, subject if isinstance(subject, dict) else {})
        year = load(schemas.RELIEF_YEAR_INPUT, {"year": year}, today=self.clock.today())["year"]
        account = self._account(command)
        return relief_domain.present(account.compute(year))

    # -- recording -------------------------------------------------------------------------
    @rpc(roles=WRITE)
    def record_tax_relief(self, data):
        """Relief actually deducted for ``tax_year``: ``amount`` at most the ``tax_due`` the
        record states (else ``InvalidInput``) and at most what is left of the computed
        entitlement (else ``Conflict`` with ``details {remaining, tax_due}``). Records
        against one account and year are serialised, so their sum never passes it."""
        command = load(schemas.TAX_RELIEF_INPUT, data, today=self.clock.today())
        account = self._account(command)
        year = command["tax_year"]
        self.store.lock_relief(year, account.lock_keys)
        entitlement = account.compute(year)
        recorded, events = relief_domain.record(
            entitlement,
            relief_domain.TaxRelief(
                id=str(uuid.uuid4()),
                veteran_id=account.subject.get("veteran_id"),
                enterprise_id=account.subject.get("enterprise_id"),
                employer_id=account.subject.get("employer_id"),
                county_code=account.county_code,
                tax_year=year,
                amount=command["amount"],
                tax_due=command["tax_due"],
                note=command["note"],
                policy_ids=tuple(entry.id for entry in entitlement.policy),
                recorded_at=self.clock.now(),
                recorded_by=self.auth.operator.id,
            ),
        )
        self.store.add_relief(recorded)
        self.store.emit(*events)
        log.info(
            "tax_relief.recorded",
            tax_relief_id=recorded.id,
            tax_year=year,
            county_code=recorded.county_code,
            operator_id=self.auth.operator.id,
        )
        return relief_domain.present_relief(recorded, entitlement)

    # -- helpers --------------------------------------------------------------------------
    def _account(self, command) -> Account:
        """The subject the caller may see, else ``NotFound`` (another county's alike)."""
        policy = self.policy
        if command["veteran_id"] is not None:
            veteran_id = str(command["veteran_id"])
            veteran = self._visible_veteran(veteran_id)
            if veteran is None:
                raise NotFound(f"loans has no veteran {veteran_id}")
            subject = {"veteran_id": veteran_id}

            def veteran_relief(year):
                businesses = self.store.businesses_of(veteran_id)
                used = self.store.relief_used(
                    year, [veteran_id], [b.enterprise_id for b in businesses]
                )
                placements = [self.store.placements([veteran_id]).get(veteran_id)]
                business = relief_domain.first_business(businesses)
                return relief_domain.self_employed(
                    policy, subject, year, placements, business, used
                )

            return Account(subject, veteran.county_code, (f"veteran:{veteran_id}",), veteran_relief)
        if command["enterprise_id"] is not None:
            return self._business_account(str(command["enterprise_id"]), policy)
        return self._employer_account(str(command["employer_id"]), policy)

    def _business_account(self, enterprise_id, policy) -> Account:
        business = self.store.get_business(enterprise_id)
        if business is None or not self.auth.may_see(business.county_code):
            raise NotFound(f"loans has no enterprise {enterprise_id}")
        subject = {"enterprise_id": enterprise_id}
        founders = business.founder_ids
        keys = tuple(f"veteran:{f}" for f in founders) or (f"enterprise:{enterprise_id}",)

        def business_relief(year):
            # The cap is the founders' (per household): records against them or any of
            # their individual businesses count against it.
            others = [b.enterprise_id for f in founders for b in self.store.businesses_of(f)]
            used = self.store.relief_used(year, founders, [enterprise_id, *others])
            if business.kind != relief_domain.INDIVIDUAL_BUSINESS:
                return relief_domain.not_an_individual_business(subject, year, business, used)
            known = self.store.placements(founders)
            placements = [known.get(f) for f in founders]
            return relief_domain.self_employed(policy, subject, year, placements, business, used)

        return Account(subject, business.county_code, keys, business_relief)

    def _employer_account(self, employer_id, policy) -> Account:
        hires = self.store.hires_of(employer_id)
        # An employer is seen through its hires: a caller sees it only when they may see
        # every hire's county (else it would learn about another county's veterans).
        if not hires or not all(self.auth.may_see(h.county_code) for h in hires):
            raise NotFound(f"loans has seen no hires by employer {employer_id}")
        subject = {"employer_id": employer_id}

        def employer_relief(year):
            placements = self.store.placements([h.veteran_id for h in hires])
            used = self.store.relief_used(year, employer_id=employer_id)
            return relief_domain.employer(policy, subject, year, hires, placements, used)

        return Account(subject, hires[0].county_code, (f"employer:{employer_id}",), employer_relief)
