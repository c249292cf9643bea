"""loans: the 拥军创业贷 products, eligibility, the loan lifecycle, subsidies and tax relief
(lifecycle.py)."""

import uuid
from decimal import Decimal

import structlog

from services.loans import domain, loan_rules
from services.loans.bank_http import BankHttp
from services.loans.lifecycle import LoanLifecycle
from services.loans.policy import NoRule, PolicyTable
from services.loans.products import ProductCatalog
from services.loans.referral import LoanReferral
from services.loans.relief import TaxReliefs
from services.loans.store import LoansStore
from shared.auth import READ, STATS, WRITE
from shared.contracts.registry import (
    ENTERPRISE_REGISTERED,
    ENTERPRISE_UPDATED,
    VETERAN_REGISTERED,
    VETERAN_UPDATED,
)
from shared.db import Database
from shared.messaging import batch_event_handler, rpc
from shared.service import ServiceBase
from shared.validation import invalid, parse_uuid

log = structlog.get_logger(__name__)


class LoansService(TaxReliefs, LoanReferral, BankHttp, LoanLifecycle, ServiceBase):
    name = "loans"
    store = Database(LoansStore)
    products = ProductCatalog()
    policy = PolicyTable()

    # -- reactions ---------------------------------------------------------------------
    # One queue for registry's veteran and enterprise events keeps a veteran's registration
    # ahead of their updates, and a batch per transaction keeps up with a bulk import: one
    # upsert per projection, one context query and one insert of assessments per batch.
    @batch_event_handler(
        "registry",
        VETERAN_REGISTERED,
        also=[
            ("registry", VETERAN_UPDATED),
            ("registry", ENTERPRISE_REGISTERED),
            ("registry", ENTERPRISE_UPDATED),
        ],
    )
    def on_registry_events(self, events):
        veterans: dict[str, tuple[domain.VeteranFacts, dict]] = {}
        enterprises: dict[str, domain.Enterprise] = {}
        terms: dict[str, tuple] = {}  # enterprise_id → (id, kind, founded_on, stage): tax relief
        assess: list[tuple[str, domain.VeteranFacts | None, str]] = []
        for event in events:
            if event.type in (VETERAN_REGISTERED, VETERAN_UPDATED):
                data = event.data if event.type == VETERAN_REGISTERED else event.data["snapshot"]
                facts = domain.VeteranFacts(
                    veteran_id=data["veteran_id"],
                    county_code=data["county_code"],
                    birth_year=data["birth_year"],
                    willingness=data["willingness"],
                    employment_status=data["employment_status"],
                    discharge_type=data.get("discharge_type"),
                    discharged_on=data.get("discharged_on"),
                )
                veterans[data["veteran_id"]] = (facts, data)
                assess.append((data["veteran_id"], facts, event.event_id))
            else:  # an enterprise: its founders may qualify, or stop qualifying
                data = event.data if event.type == ENTERPRISE_REGISTERED else event.data["snapshot"]
                enterprises[data["enterprise_id"]] = domain.Enterprise(
                    data["enterprise_id"],
                    data["county_code"],
                    data["stage"],
                    tuple(data["founder_ids"]),
                    kind=data.get("kind"),
                    employees=data.get("employees"),
                    new_hires=data.get("new_hires"),
                )
                assess += [(founder, None, event.event_id) for founder in data["founder_ids"]]
                terms[data["enterprise_id"]] = (
                    data["enterprise_id"],
                    data["kind"],
                    data["founded_on"],
                    data["stage"],
                )
        now = self.clock.now()
        # The projection keeps each veteran's and enterprise's last state in the batch.
        self.store.save_veterans(veterans.values(), now)
        self.store.save_enterprises(enterprises.values(), now)
        self.store.save_enterprise_terms(terms.values(), self.clock.today())
        # Each veteran event is judged on its own facts, in order; an enterprise's founders
        # on what loans knows of them.
        known = self.store.get_veterans(
            {veteran_id for veteran_id, facts, _ in assess if facts is None}
        )
        items = [
            (facts or known[veteran_id], cause)
            for veteran_id, facts, cause in assess
            if facts is not None or veteran_id in known
        ]
        if items:
            self._assess_many(items, list(self.products.values()))

    def _assess_many(self, items, products, enterprise_id=None, borrower_kind="individual"):
        """Assess each (facts, cause_event_id) in order for each product; store every
        assessment and announce those whose answer or amount changed. Returns them.
        ``enterprise_id``: the enterprise a loan application names; ``borrower_kind``: who
        borrows (an enterprise kind's loan record is the enterprise's)."""
        veteran_ids = [facts.veteran_id for facts, _ in items]
        context = self.store.assessment_contexts(
            veteran_ids, [product.code for product in products]
        )
        founded = self.store.enterprises_of(veteran_ids)
        records = self.store.loan_records(veteran_ids)
        if borrower_kind != "individual" and enterprise_id is not None:
            record = self.store.enterprise_loan_record(enterprise_id)
            records = dict.fromkeys(veteran_ids, record)
        limits = loan_rules.repeat_limits(self.policy, self.clock.today())
        now, assessments, changed = self.clock.now(), [], []
        for facts, cause_event_id in items:
            for product in products:
                key = (facts.veteran_id, product.code)
                active, previous = context[key]
                assessment = domain.assess(
                    product,
                    facts,
                    active,
                    now,
                    str(uuid.uuid4()),
                    cause_event_id=cause_event_id,
                    enterprises=founded.get(facts.veteran_id, ()),
                    enterprise_id=enterprise_id,
                    borrower_kind=borrower_kind,
                    repeat_limits=limits,
                    earlier_loans=records.get(facts.veteran_id, (0, 0))[0],
                    written_off=records.get(facts.veteran_id, (0, 0))[1],
                )
                assessments.append(assessment)
                if domain.outcome_changed(previous, assessment):
                    changed.append(domain.assessed_event(assessment))
                context[key] = (active, (assessment.eligible, assessment.max_amount))
        self.store.save_assessments(assessments, requested_by=self.auth.operator.id)
        self.store.emit(*changed)
        log.info(
            "eligibility.assessed",
            assessments=len(assessments),
            eligible=sum(a.eligible for a in assessments),
            announced=len(changed),
        )
        return assessments

    # -- queries -----------------------------------------------------------------------
    @rpc(roles=STATS)
    def list_products(self):
        """The products with their rate today (the LPR in force + the product's spread) and
        the share of the interest subsidised today (None when no rule is in force)."""
        today = self.clock.today()
        out = []
        for product in self.products.values():
            rate: Decimal | None
            share: Decimal | None
            try:
                pricing = loan_rules.price(self.policy, product, today, None)
                rate, share = pricing.annual_rate, pricing.subsidy_share
            except NoRule:
                rate = share = None
            out.append(domain.present_product(product, rate, share))
        return out

    @rpc(roles=WRITE)
    def check_eligibility(self, veteran_id, product_code):
        """Assess now, store the assessment, and answer criterion by criterion."""
        veteran_id = str(parse_uuid(veteran_id, "veteran_id"))
        product = self._product(product_code)
        veteran = self._visible_veteran(veteran_id, lock=True)
        if veteran is None:  # nothing to store about someone loans has never heard of
            # (or the caller may not see: answered alike)
            assessment = domain.assess(
                product, None, 0, self.clock.now(), str(uuid.uuid4()), veteran_id=veteran_id
            )
        else:
            [assessment] = self._assess_many([(veteran, None)], [product])
        return {**domain.present_assessment(assessment), **self._limits(product)}

    @rpc(roles=READ)
    def get_eligibility(self, veteran_id, product_code=None):
        """The latest stored assessments, newest per product."""
        veteran_id = parse_uuid(veteran_id, "veteran_id")
        if product_code is not None:
            self._product(product_code)
        if self._visible_veteran(veteran_id) is None:
            return []
        return [
            {**domain.present_assessment(a), **self._limits(self.products[a.product_code])}
            for a in self.store.latest_assessments(veteran_id, product_code)
            if a.product_code in self.products
        ]

    def health_details(self):
        return {"products": sorted(self.products)}

    def _visible_veteran(self, veteran_id, lock=False):
        """The veteran as loans knows them, or None when loans does not, or when they are
        outside the caller's counties: the two are answered alike."""
        veteran = self.store.get_veteran(veteran_id, lock=lock)
        if veteran is None or not self.auth.may_see(veteran.county_code):
            return None
        return veteran

    def _product(self, product_code):
        if not isinstance(product_code, str) or product_code not in self.products:
            raise invalid(
                {"product_code": [f"unknown product; known: {', '.join(sorted(self.products))}"]}
            )
        return self.products[product_code]

    @staticmethod
    def _limits(product):
        # Names to read out to the veteran beside the figures.
        return {"product_name": product.name, "lender": product.lender}
