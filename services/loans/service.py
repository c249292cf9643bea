"""loans: the 拥军创业贷 product and eligibility (the loan lifecycle follows)."""
import uuid

import structlog

from services.loans import domain
from services.loans.products import ProductCatalog
from services.loans.store import LoansStore
from shared.auth import READ, STATS, WRITE
from shared.contracts.registry import VETERAN_REGISTERED, VETERAN_UPDATED
from shared.db import Database
from shared.messaging import batch_event_handler, rpc
from shared.service import ServiceBase
from shared.validation import invalid, parse_uuid

log = structlog.get_logger(__name__)


class LoansService(ServiceBase):
    name = "loans"
    store = Database(LoansStore)
    products = ProductCatalog()

    # -- reactions ---------------------------------------------------------------------
    # One queue for both types keeps a veteran's registration ahead of their updates, and
    # a batch per transaction keeps up with a bulk import: one projection upsert, one
    # context query and one insert of assessments per batch, not per event.
    @batch_event_handler("registry", VETERAN_REGISTERED, also=[("registry", VETERAN_UPDATED)])
    def on_veteran_events(self, events):
        items = []
        for event in events:
            data = event.data if event.type == VETERAN_REGISTERED else event.data["snapshot"]
            items.append((domain.VeteranFacts(
                veteran_id=data["veteran_id"], county_code=data["county_code"],
                birth_year=data["birth_year"], willingness=data["willingness"],
                employment_status=data["employment_status"]), data, event.event_id))
        # The projection keeps each veteran's last snapshot in the batch.
        latest = {facts.veteran_id: (facts, data) for facts, data, _ in items}
        self.store.save_veterans(latest.values(), self.clock.now())
        self._assess_many([(facts, cause) for facts, _, cause in items],
                          list(self.products.values()))

    def _assess_many(self, items, products):
        """Assess each (facts, cause_event_id) in order for each product; store every
        assessment and announce those whose answer or amount changed. Returns them."""
        context = self.store.assessment_contexts([facts.veteran_id for facts, _ in items],
                                                 [product.code for product in products])
        now, assessments, changed = self.clock.now(), [], []
        for facts, cause_event_id in items:
            for product in products:
                key = (facts.veteran_id, product.code)
                active, previous = context[key]
                assessment = domain.assess(product, facts, active, now, str(uuid.uuid4()),
                                           cause_event_id=cause_event_id)
                assessments.append(assessment)
                if domain.outcome_changed(previous, assessment):
                    changed.append(domain.assessed_event(assessment))
                context[key] = (active, (assessment.eligible, assessment.max_amount))
        self.store.save_assessments(assessments, requested_by=self.auth.operator.id)
        self.store.emit(*changed)
        log.info("eligibility.assessed", assessments=len(assessments),
                 eligible=sum(a.eligible for a in assessments), announced=len(changed))
        return assessments

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
            [assessment] = self._assess_many([(veteran, None)], [product])
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
