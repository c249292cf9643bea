"""loans: the 拥军创业贷 product and eligibility (the loan lifecycle follows)."""
import uuid

import structlog

from services.loans import domain
from services.loans.products import ProductCatalog
from services.loans.store import LoansStore
from shared.auth import READ, STATS, WRITE
from shared.contracts.registry import VETERAN_REGISTERED, VETERAN_UPDATED
from shared.db import Database
from shared.messaging import event_handler, rpc
from shared.service import ServiceBase
from shared.validation import invalid, parse_uuid

log = structlog.get_logger(__name__)


class LoansService(ServiceBase):
    name = "loans"
    store = Database(LoansStore)
    products = ProductCatalog()

    # -- reactions ---------------------------------------------------------------------
    @event_handler("registry", VETERAN_REGISTERED)
    def on_veteran_registered(self, event):
        self._refresh(event.data, event.event_id)

    @event_handler("registry", VETERAN_UPDATED)
    def on_veteran_updated(self, event):
        self._refresh(event.data["snapshot"], event.event_id)

    def _refresh(self, data, cause_event_id):
        facts = domain.VeteranFacts(
            veteran_id=data["veteran_id"], county_code=data["county_code"],
            birth_year=data["birth_year"], willingness=data["willingness"],
            employment_status=data["employment_status"])
        self.store.save_veteran(facts, data, self.clock.now())  # also locks the row
        for product in self.products.values():
            self._assess(product, facts, cause_event_id)

    def _assess(self, product, veteran, cause_event_id=None):
        active, previous = self.store.assessment_context(veteran.veteran_id, product.code)
        assessment = domain.assess(product, veteran, active, self.clock.now(),
                                   str(uuid.uuid4()), cause_event_id=cause_event_id)
        self.store.save_assessment(assessment, requested_by=self.auth.operator.id)
        if domain.outcome_changed(previous, assessment):
            self.store.emit(domain.assessed_event(assessment))
        log.info("eligibility.assessed", veteran_id=veteran.veteran_id,
                 product_code=product.code, eligible=assessment.eligible,
                 failed=assessment.failed_criteria)
        return assessment

    # -- queries -----------------------------------------------------------------------
    @rpc(roles=STATS)
    def list_products(self):
        return [domain.present_product(p) for p in self.products.values()]

    @rpc(roles=WRITE)
    def check_eligibility(self, veteran_id, product_code):
        """Assess now, store the assessment, and answer criterion by criterion."""
        veteran_id = str(parse_uuid(veteran_id, "veteran_id"))
        product = self._product(product_code)
        veteran = self.store.get_veteran(veteran_id, lock=True)
        if veteran is not None:
            self.auth.require_county(veteran.county_code)
        if veteran is None:  # nothing to store about someone loans has never heard of
            assessment = domain.assess(product, None, 0, self.clock.now(), str(uuid.uuid4()),
                                       veteran_id=veteran_id)
        else:
            assessment = self._assess(product, veteran)
        return {**domain.present_assessment(assessment), **self._limits(product)}

    @rpc(roles=READ)
    def get_eligibility(self, veteran_id, product_code=None):
        """The latest stored assessments, newest per product."""
        veteran_id = parse_uuid(veteran_id, "veteran_id")
        if product_code is not None:
            self._product(product_code)
        veteran = self.store.get_veteran(veteran_id)
        if veteran is None:
            return []
        self.auth.require_county(veteran.county_code)
        return [{**domain.present_assessment(a), **self._limits(self.products[a.product_code])}
                for a in self.store.latest_assessments(veteran_id, product_code)
                if a.product_code in self.products]

    def health_details(self):
        return {"products": sorted(self.products)}

    def _product(self, product_code):
        if not isinstance(product_code, str) or product_code not in self.products:
            raise invalid({"product_code": [
                f"unknown product; known: {', '.join(sorted(self.products))}"]})
        return self.products[product_code]

    @staticmethod
    def _limits(product):
        # Names to read out to the veteran beside the figures.
        return {"product_name": product.name, "lender": product.lender}
