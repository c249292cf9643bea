"""loans' eligibility assessment: each criterion, the unregistered case, what counts as news."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.loans import domain
from services.loans.products import load_products
from shared.contracts import ContractError, dump_data
from shared.contracts.loans import LOAN_ELIGIBILITY_ASSESSED

AS_OF = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
VETERAN_ID = "0b7f3c2e-5d1a-4e8b-9c3f-2a1b0c9d8e7f"
ALL_CRITERIA = [
    "registered_veteran",
    "county_listed",
    "business_intent",
    "no_active_loan",
    "age_within_limits",
]

PRODUCT = domain.Product(
    code="test_loan",
    name="测试创业贷",
    lender="测试银行",
    counties=("652301", "652302"),
    min_principal=Decimal("10000.00"),
    max_principal=Decimal("250000.00"),
    max_term_months=24,
    rate_spread=Decimal("0.0085"),
    lpr_term="one_year",
    repayment_method="equal_instalments",
    criteria={
        "registered_veteran": {},
        "county_listed": {},
        "business_intent": {"willingness": ["business"]},
        "no_active_loan": {},
        "age_within_limits": {"min_age": 18, "max_age": 60},
    },
)


def veteran(**overrides):
    facts = {
        "veteran_id": VETERAN_ID,
        "county_code": "652301",
        "birth_year": AS_OF.year - 36,
        "willingness": "business",
        "employment_status": "unemployed",
    }
    facts.update(overrides)
    return domain.VeteranFacts(**facts)


def assess(facts=None, active_loans=0, product=PRODUCT, **kwargs):
    return domain.assess(product, facts, active_loans, AS_OF, "assessment-1", **kwargs)


# -- eligible -----------------------------------------------------------------------------


def test_an_eligible_veteran_passes_every_criterion_of_the_product():
    result = assess(veteran())
    assert result.eligible is True
    assert result.failed_criteria == []
    assert [c.code for c in result.criteria] == ALL_CRITERIA
    assert all(c.passed and c.detail for c in result.criteria)


def test_an_eligible_veteran_may_borrow_the_products_maximum_for_its_longest_term():
    result = assess(veteran())
    assert result.max_amount == PRODUCT.max_principal
    assert result.max_term_months == PRODUCT.max_term_months


def test_the_assessment_records_who_what_when_and_why():
    result = assess(veteran(), cause_event_id="evt-1")
    assert (result.id, result.veteran_id, result.product_code) == (
        "assessment-1",
        VETERAN_ID,
        "test_loan",
    )
    assert result.assessed_at == AS_OF
    assert result.cause_event_id == "evt-1"


def test_an_eligible_veteran_gets_the_shipped_products_maximum():
    product = load_products()["yongjun_chuangye"]
    result = assess(veteran(), product=product)
    assert result.eligible is True
    assert result.max_amount == product.max_principal == Decimal("300000.00")


# -- one failing criterion at a time ------------------------------------------------------


@pytest.mark.parametrize(
    "facts, active_loans, failing",
    [
        ({"county_code": "652399"}, 0, "county_listed"),
        ({"county_code": "652323"}, 0, "county_listed"),  # in the prefecture, not in the product
        ({"willingness": "job"}, 0, "business_intent"),
        ({"willingness": "none"}, 0, "business_intent"),
        ({"birth_year": AS_OF.year - 17}, 0, "age_within_limits"),
        ({"birth_year": AS_OF.year - 61}, 0, "age_within_limits"),
        ({}, 1, "no_active_loan"),
        ({}, 3, "no_active_loan"),
    ],
    ids=[
        "county-652399",
        "county-not-covered",
        "job",
        "none",
        "age-17",
        "age-61",
        "one-active-loan",
        "three-active-loans",
    ],
)
def test_a_single_failing_criterion_makes_the_veteran_ineligible_naming_only_it(
    facts, active_loans, failing
):
    result = assess(veteran(**facts), active_loans)
    assert result.eligible is False
    assert result.failed_criteria == [failing]
    assert result.max_amount == Decimal("0.00")
    assert result.max_term_months == 0


@pytest.mark.parametrize("age", [18, 60])
def test_the_age_limits_are_inclusive(age):
    result = assess(veteran(birth_year=AS_OF.year - age))
    assert result.eligible is True
    assert f"age {age}" in next(c.detail for c in result.criteria if c.code == "age_within_limits")


def test_the_age_limits_come_from_the_product():
    strict = replace(
        PRODUCT, criteria={**PRODUCT.criteria, "age_within_limits": {"min_age": 40, "max_age": 45}}
    )
    assert assess(veteran(), product=strict).failed_criteria == ["age_within_limits"]


def test_the_accepted_willingness_comes_from_the_product():
    lenient = replace(
        PRODUCT,
        criteria={**PRODUCT.criteria, "business_intent": {"willingness": ["business", "job"]}},
    )
    assert assess(veteran(willingness="job"), product=lenient).eligible is True


def test_a_failing_criterion_explains_itself():
    result = assess(veteran(county_code="652399"))
    failed = next(c for c in result.criteria if not c.passed)
    assert "652399" in failed.detail


def test_several_failing_criteria_are_all_listed():
    result = assess(veteran(county_code="652399", willingness="job"), active_loans=1)
    assert result.failed_criteria == ["county_listed", "business_intent", "no_active_loan"]


# -- unknown veteran ----------------------------------------------------------------------


def test_an_unknown_veteran_fails_registered_veteran_and_nothing_else_is_assessed():
    result = assess(None, veteran_id=VETERAN_ID)
    assert result.eligible is False
    assert result.veteran_id == VETERAN_ID
    assert result.failed_criteria == ALL_CRITERIA
    first, *others = result.criteria
    assert first.code == "registered_veteran"
    assert "not assessed" not in first.detail
    assert others and all("not assessed" in c.detail for c in others)
    assert result.max_amount == Decimal("0.00")
    assert result.max_term_months == 0


# -- outcome_changed ----------------------------------------------------------------------
# ``previous`` is the last stored outcome as (eligible, max_amount), or None.


def outcome(assessment):
    return (assessment.eligible, assessment.max_amount)


def test_a_first_assessment_is_news():
    assert domain.outcome_changed(None, assess(veteran())) is True


def test_a_first_ineligible_assessment_is_news_too():
    assert domain.outcome_changed(None, assess(veteran(willingness="job"))) is True


def test_the_same_answer_and_amount_is_not_news():
    previous = outcome(assess(veteran()))
    current = replace(assess(veteran()), id="assessment-2", assessed_at=AS_OF.replace(year=2027))
    assert domain.outcome_changed(previous, current) is False


def test_an_equal_amount_written_with_other_decimals_is_not_news():
    # As read back from the database the amount may carry another exponent.
    assert domain.outcome_changed((True, Decimal("250000")), assess(veteran())) is False


def test_a_changed_answer_is_news():
    previous = outcome(assess(veteran()))
    assert domain.outcome_changed(previous, assess(veteran(willingness="job"))) is True


def test_a_changed_amount_is_news():
    previous = (True, Decimal("100000.00"))
    assert domain.outcome_changed(previous, assess(veteran())) is True


def test_another_failing_reason_with_the_same_answer_is_not_news():
    previous = outcome(assess(veteran(willingness="job")))
    current = assess(veteran(county_code="652399"))
    assert domain.outcome_changed(previous, current) is False


# -- the event ----------------------------------------------------------------------------


def test_the_assessed_event_of_an_eligible_veteran_passes_its_contract():
    event = domain.assessed_event(assess(veteran(), cause_event_id="evt-9"))
    assert event.type == LOAN_ELIGIBILITY_ASSESSED
    data = dump_data("loans", event)
    assert data["eligible"] is True
    assert Decimal(data["max_amount"]) == PRODUCT.max_principal
    assert data["failed_criteria"] == []
    assert data["assessment_id"] == "assessment-1"
    assert data["cause_event_id"] == "evt-9"


def test_the_assessed_event_of_an_ineligible_veteran_passes_its_contract():
    data = dump_data("loans", domain.assessed_event(assess(veteran(willingness="job"))))
    assert data["eligible"] is False
    assert data["max_amount"] == "0.00"
    assert data["failed_criteria"] == ["business_intent"]
    assert data["cause_event_id"] is None


def test_an_assessed_event_without_a_veteran_id_breaks_the_contract():
    # Guards the check itself: dump_data must be able to fail.
    with pytest.raises(ContractError):
        dump_data("loans", domain.assessed_event(assess(None)))


def test_present_assessment_is_readable_and_json_safe():
    reply = domain.present_assessment(assess(veteran(willingness="job")))
    assert reply["max_amount"] == "0.00"
    assert reply["assessed_at"] == AS_OF.isoformat()
    assert {"code": "business_intent", "passed": False}.items() <= reply["criteria"][2].items()
