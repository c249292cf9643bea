"""loans' domain: products and the eligibility assessment. Pure functions; each criterion
reports pass or fail with a reason a clerk can read out to the veteran."""
from dataclasses import dataclass, field
from decimal import Decimal

from shared.contracts import Event
from shared.contracts.loans import LOAN_ELIGIBILITY_ASSESSED

ACTIVE_LOAN_STATES = ("submitted", "approved", "active", "delinquent")


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    lender: str
    counties: tuple
    min_principal: Decimal
    max_principal: Decimal
    max_term_months: int
    annual_rate: Decimal
    interest_subsidy_rate: Decimal
    repayment_method: str
    criteria: dict = field(default_factory=dict)


@dataclass(frozen=True)
class VeteranFacts:
    veteran_id: str
    county_code: str
    birth_year: int
    willingness: str
    employment_status: str


@dataclass(frozen=True)
class Criterion:
    code: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Assessment:
    id: str
    veteran_id: str
    product_code: str
    eligible: bool
    max_amount: Decimal
    max_term_months: int
    criteria: tuple
    assessed_at: object
    cause_event_id: str | None = None

    @property
    def failed_criteria(self):
        return [c.code for c in self.criteria if not c.passed]


def _county_listed(product, params, veteran, active_loans, as_of):
    if veteran.county_code in product.counties:
        return True, f"lives in county {veteran.county_code}, which the product covers"
    return False, f"county {veteran.county_code} is not covered by {product.name}"


def _business_intent(product, params, veteran, active_loans, as_of):
    wanted = params.get("willingness", ["business"])
    if veteran.willingness in wanted:
        return True, f"willingness is {veteran.willingness}"
    return False, (f"willingness is {veteran.willingness}; the product is for veterans who "
                   f"want to start a business ({', '.join(wanted)})")


def _no_active_loan(product, params, veteran, active_loans, as_of):
    if active_loans:
        return False, f"already has {active_loans} active {product.code} loan(s)"
    return True, "no active loan of this product"


def _age_within_limits(product, params, veteran, active_loans, as_of):
    low, high = params.get("min_age", 18), params.get("max_age", 60)
    # Events carry the birth year only; age is counted in calendar years.
    age = as_of.year - veteran.birth_year
    if low <= age <= high:
        return True, f"age {age} is within {low}-{high}"
    return False, f"age {age} is outside {low}-{high}"


CRITERIA = {
    "county_listed": _county_listed,
    "business_intent": _business_intent,
    "no_active_loan": _no_active_loan,
    "age_within_limits": _age_within_limits,
}
KNOWN_CRITERIA = {"registered_veteran", *CRITERIA}


def assess(product, veteran, active_loans, as_of, assessment_id, veteran_id=None,
           cause_event_id=None):
    """Assess one veteran (``None`` when loans has never heard of them) for one product."""
    if veteran is None:
        criteria = [Criterion("registered_veteran", False,
                              "not found among registered veterans")]
        criteria += [Criterion(code, False, "not assessed: the veteran is not registered")
                     for code in product.criteria if code != "registered_veteran"]
    else:
        veteran_id = veteran.veteran_id
        criteria = [Criterion("registered_veteran", True, "registered with the bureau")]
        for code, params in product.criteria.items():
            if code in CRITERIA:
                passed, detail = CRITERIA[code](product, params or {}, veteran, active_loans, as_of)
                criteria.append(Criterion(code, passed, detail))
    eligible = all(c.passed for c in criteria)
    return Assessment(
        id=assessment_id, veteran_id=veteran_id, product_code=product.code, eligible=eligible,
        max_amount=product.max_principal if eligible else Decimal("0.00"),
        max_term_months=product.max_term_months if eligible else 0,
        criteria=tuple(criteria), assessed_at=as_of, cause_event_id=cause_event_id)


def outcome_changed(previous, current):
    """Only a change of answer or amount is news for other services. ``previous`` is the
    last (eligible, max_amount), or None for a first assessment."""
    return previous != (current.eligible, current.max_amount)


def assessed_event(assessment):
    return Event(LOAN_ELIGIBILITY_ASSESSED, {
        "veteran_id": assessment.veteran_id,
        "product_code": assessment.product_code,
        "eligible": assessment.eligible,
        "max_amount": assessment.max_amount,
        "max_term_months": assessment.max_term_months,
        "failed_criteria": assessment.failed_criteria,
        "assessment_id": assessment.id,
        "cause_event_id": assessment.cause_event_id,
    })


def present_assessment(assessment):
    return {
        "assessment_id": assessment.id,
        "veteran_id": assessment.veteran_id,
        "product_code": assessment.product_code,
        "eligible": assessment.eligible,
        "max_amount": f"{assessment.max_amount:.2f}",
        "max_term_months": assessment.max_term_months,
        "criteria": [{"code": c.code, "passed": c.passed, "detail": c.detail}
                     for c in assessment.criteria],
        "assessed_at": assessment.assessed_at.isoformat(),
    }


def present_product(product):
    return {
        "code": product.code, "name": product.name, "lender": product.lender,
        "counties": list(product.counties),
        "min_principal": f"{product.min_principal:.2f}",
        "max_principal": f"{product.max_principal:.2f}",
        "max_term_months": product.max_term_months,
        "annual_rate": str(product.annual_rate),
        "interest_subsidy_rate": str(product.interest_subsidy_rate),
        "repayment_method": product.repayment_method,
        "criteria": list(product.criteria),
    }
