"""loans' domain: its records (products, veteran facts, assessments, loans, repayments,
subsidies, tax relief) and the eligibility assessment. Pure functions; each criterion
reports pass or fail with a reason a clerk can read out to the veteran. The loan
lifecycle's rules are in loan_domain.py."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from shared.contracts import Event
from shared.contracts.loans import LOAN_ELIGIBILITY_ASSESSED

ACTIVE_LOAN_STATES = ("submitted", "referred", "approved", "active", "delinquent")


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    lender: str
    counties: tuple
    min_principal: Decimal
    max_principal: Decimal
    max_term_months: int
    # The rate is the LPR in force at signing (``lpr_term``: one_year | five_year) plus
    # ``rate_spread`` (may be negative); see loan_rules.price.
    rate_spread: Decimal
    lpr_term: str
    repayment_method: str
    criteria: dict = field(default_factory=dict)
    borrower_kinds: tuple = ("individual",)
    # [{max_years_since_discharge, share}]: the share of the interest subsidised for a
    # veteran signing before that anniversary of discharge (replaces the rule's share).
    subsidy_tiers: tuple = ()
    subsidy_months: int | None = None  # instalments after this month get no subsidy
    # in_house: the bureau approves and disburses; referral: the bureau verifies and refers
    # to one of partner_banks (codes of the products file's banks), the bank decides.
    workflow: str = "in_house"
    partner_banks: tuple = ()
    figures_unverified: bool = False  # cap and term are placeholders the bureau must confirm


@dataclass(frozen=True)
class VeteranFacts:
    veteran_id: str
    county_code: str
    birth_year: int
    willingness: str
    employment_status: str
    discharge_type: str | None = None
    discharged_on: dt.date | None = None


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


@dataclass(frozen=True)
class Context:
    """What an assessment looks at beside the veteran: their active loans of the product,
    the enterprises they founded ((enterprise_id, stage) pairs), and the enterprise a loan
    application names (``enterprise_id``; None when it names none)."""

    active_loans: int
    as_of: object
    enterprises: tuple = ()
    enterprise_id: str | None = None
    # The borrower's loan record for ``repeat_limit``: its kind, the limit per kind in
    # force (None: no rule), its earlier disbursed loans and how many were written off.
    borrower_kind: str = "individual"
    repeat_limits: dict | None = None
    earlier_loans: int = 0
    written_off: int = 0


QUALIFYING_STAGES = ("startup", "operating")


@dataclass(frozen=True)
class Enterprise:
    """loans' projection of an enterprise from registry's events."""

    enterprise_id: str
    county_code: str
    stage: str
    founder_ids: tuple[str, ...] = ()
    kind: str | None = None
    employees: int | None = None
    new_hires: int | None = None  # hires of the past 12 months on contracts of a year+


@dataclass(frozen=True)
class Loan:
    """A loan, as the ``loans`` table holds it (fields in its column order)."""

    id: str
    veteran_id: str
    product_code: str
    status: str
    amount: Decimal
    created_at: dt.datetime
    county_code: str | None = None
    enterprise_id: str | None = None
    term_months: int | None = None
    purpose: str | None = None
    annual_rate: Decimal | None = None
    interest_subsidy_rate: Decimal | None = None
    repayment_method: str | None = None
    approved_amount: Decimal | None = None
    reason: str | None = None
    submitted_on: dt.date | None = None
    approved_on: dt.date | None = None
    disbursed_on: dt.date | None = None
    closed_on: dt.date | None = None
    days_overdue: int = 0
    updated_at: dt.datetime | None = None
    created_by: str | None = None
    # Pricing and borrower (migration 006): fixed at signing (approval in-house).
    borrower_kind: str = "individual"
    lpr: Decimal | None = None
    lpr_entry: str | None = None
    rate_spread: Decimal | None = None
    subsidy_rule: str | None = None
    subsidy_months: int | None = None
    extended_months: int = 0
    extended_on: dt.date | None = None
    workflow: str = "in_house"  # the product's, when applied for (referral.py)
    bank_code: str | None = None  # the partner bank a referral loan went to
    referred_on: dt.date | None = None

    @property
    def days_to_disbursement(self) -> int | None:
        if self.disbursed_on and self.submitted_on:
            return (self.disbursed_on - self.submitted_on).days
        return None


@dataclass(frozen=True)
class LoanHistory:
    """One line of a loan's history: who moved it, when, from what to what, and why."""

    loan_id: str
    at: dt.datetime
    from_status: str | None
    to_status: str
    note: str | None
    operator_id: str


@dataclass(frozen=True)
class Repayment:
    id: str
    loan_id: str
    amount: Decimal
    paid_on: dt.date
    recorded_at: dt.datetime
    recorded_by: str


@dataclass(frozen=True)
class Subsidy:
    id: str
    kind: str
    veteran_id: str | None
    enterprise_id: str | None
    county_code: str
    amount: Decimal
    period: str
    note: str | None
    granted_at: dt.datetime
    granted_by: str


def _county_listed(product, params, veteran, context):
    if veteran.county_code in product.counties:
        return True, f"lives in county {veteran.county_code}, which the product covers"
    return False, f"county {veteran.county_code} is not covered by {product.name}"


def _business_intent(product, params, veteran, context):
    wanted = params.get("willingness", ["business"])
    stages = params.get("stages", list(QUALIFYING_STAGES))
    if veteran.willingness in wanted:
        return True, f"willingness is {veteran.willingness}"
    running = [eid for eid, stage in context.enterprises if stage in stages]
    if running:
        return True, f"founder of an enterprise in stage {'/'.join(stages)}"
    return False, (
        f"willingness is {veteran.willingness} and no enterprise of theirs is in "
        f"stage {'/'.join(stages)}; the product is for veterans who start or run a "
        f"business ({', '.join(wanted)})"
    )


def _no_active_loan(product, params, veteran, context):
    if context.active_loans:
        return False, f"already has {context.active_loans} active {product.code} loan(s)"
    return True, "no active loan of this product"


def _age_within_limits(product, params, veteran, context):
    low, high = params.get("min_age", 18), params.get("max_age", 60)
    # Events carry the birth year only; age is counted in calendar years.
    age = context.as_of.year - veteran.birth_year
    if low <= age <= high:
        return True, f"age {age} is within {low}-{high}"
    return False, f"age {age} is outside {low}-{high}"


def _enterprise_not_closed(product, params, veteran, context):
    if context.enterprise_id is None:
        return True, "no enterprise named"
    stages = dict(context.enterprises)
    if context.enterprise_id not in stages:
        return False, "the enterprise named is not one this veteran founded"
    if stages[context.enterprise_id] == "closed":
        return False, "the enterprise named is closed"
    return True, f"the enterprise named is in stage {stages[context.enterprise_id]}"


def _placement_not_in(product, params, veteran, context):
    """Veterans placed in an assigned job or on a public-welfare post are excluded by some
    provinces' products (Shandong)."""
    types, statuses = params.get("discharge_types", []), params.get("employment_statuses", [])
    if veteran.discharge_type in types:
        return False, f"placed as {veteran.discharge_type}, which {product.name} excludes"
    if veteran.employment_status in statuses:
        return False, f"employment status {veteran.employment_status} is excluded"
    return True, "not in an excluded placement"


def _repeat_limit(product, params, veteran, context):
    """At most the limit in force for the borrower kind of earlier disbursed loans (any
    product), and none written off (the "good record" read as: no written-off loan)."""
    if context.written_off:
        return False, f"{context.written_off} earlier loan(s) written off"
    limit = (context.repeat_limits or {}).get(context.borrower_kind)
    if limit is None:
        return True, f"no repeat-loan limit in force for {context.borrower_kind}"
    if context.earlier_loans >= limit:
        return False, (
            f"{context.earlier_loans} earlier loan(s) disbursed; a {context.borrower_kind}"
            f" borrower may have {limit}"
        )
    return True, f"{context.earlier_loans} earlier loan(s) of at most {limit}"


CRITERIA = {
    "placement_not_in": _placement_not_in,
    "repeat_limit": _repeat_limit,
    "county_listed": _county_listed,
    "business_intent": _business_intent,
    "no_active_loan": _no_active_loan,
    "age_within_limits": _age_within_limits,
    "enterprise_not_closed": _enterprise_not_closed,
}
KNOWN_CRITERIA = {"registered_veteran", *CRITERIA}


def assess(
    product,
    veteran,
    active_loans,
    as_of,
    assessment_id,
    veteran_id=None,
    cause_event_id=None,
    enterprises=(),
    enterprise_id=None,
    **record,
):
    """Assess one veteran (``None`` when loans has never heard of them) for one product.
    ``record``: the borrower's loan record for ``repeat_limit`` (``Context``'s fields)."""
    context = Context(active_loans, as_of, tuple(enterprises), enterprise_id, **record)
    if veteran is None:
        criteria = [Criterion("registered_veteran", False, "not found among registered veterans")]
        criteria += [
            Criterion(code, False, "not assessed: the veteran is not registered")
            for code in product.criteria
            if code != "registered_veteran"
        ]
    else:
        veteran_id = veteran.veteran_id
        criteria = [Criterion("registered_veteran", True, "registered with the bureau")]
        for code, params in product.criteria.items():
            if code in CRITERIA:
                passed, detail = CRITERIA[code](product, params or {}, veteran, context)
                criteria.append(Criterion(code, passed, detail))
    eligible = all(c.passed for c in criteria)
    return Assessment(
        id=assessment_id,
        veteran_id=veteran_id,
        product_code=product.code,
        eligible=eligible,
        max_amount=product.max_principal if eligible else Decimal("0.00"),
        max_term_months=product.max_term_months if eligible else 0,
        criteria=tuple(criteria),
        assessed_at=as_of,
        cause_event_id=cause_event_id,
    )


def outcome_changed(previous, current):
    """Only a change of answer or amount is news for other services. ``previous`` is the
    last (eligible, max_amount), or None for a first assessment."""
    return previous != (current.eligible, current.max_amount)


def assessed_event(assessment):
    return Event(
        LOAN_ELIGIBILITY_ASSESSED,
        {
            "veteran_id": assessment.veteran_id,
            "product_code": assessment.product_code,
            "eligible": assessment.eligible,
            "max_amount": assessment.max_amount,
            "max_term_months": assessment.max_term_months,
            "failed_criteria": assessment.failed_criteria,
            "assessment_id": assessment.id,
            "cause_event_id": assessment.cause_event_id,
        },
    )


def present_assessment(assessment):
    return {
        "assessment_id": assessment.id,
        "veteran_id": assessment.veteran_id,
        "product_code": assessment.product_code,
        "eligible": assessment.eligible,
        "max_amount": f"{assessment.max_amount:.2f}",
        "max_term_months": assessment.max_term_months,
        "criteria": [
            {"code": c.code, "passed": c.passed, "detail": c.detail} for c in assessment.criteria
        ],
        "assessed_at": assessment.assessed_at.isoformat(),
    }


def present_product(product, annual_rate=None, subsidy_share=None):
    """``annual_rate``: the rate today (LPR in force + spread), for clients that read one;
    ``subsidy_share``: the share of the interest subsidised today."""
    return {
        "code": product.code,
        "name": product.name,
        "lender": product.lender,
        "counties": list(product.counties),
        "min_principal": f"{product.min_principal:.2f}",
        "max_principal": f"{product.max_principal:.2f}",
        "max_term_months": product.max_term_months,
        "annual_rate": None if annual_rate is None else str(annual_rate),
        "interest_subsidy_rate": None if subsidy_share is None else str(subsidy_share),
        "repayment_method": product.repayment_method,
        "criteria": list(product.criteria),
        "rate_spread": str(product.rate_spread),
        "lpr_term": product.lpr_term,
        "borrower_kinds": list(product.borrower_kinds),
        "subsidy_tiers": [
            {"max_years_since_discharge": t["max_years_since_discharge"], "share": str(t["share"])}
            for t in product.subsidy_tiers
        ],
        "subsidy_months": product.subsidy_months,
        "workflow": product.workflow,
        "partner_banks": list(product.partner_banks),
        "figures_unverified": product.figures_unverified,
    }
