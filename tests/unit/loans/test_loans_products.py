"""The products file: the shipped one loads; a bad one stops loading with a clear error."""

import copy
from decimal import Decimal

import pytest
import yaml

from services.loans import products as products_module
from services.loans.domain import Product
from services.loans.products import load_products

with open(products_module.DEFAULT_PATH, encoding="utf-8") as _f:
    SHIPPED = yaml.safe_load(_f)


def product(**changes):
    item = copy.deepcopy(SHIPPED["products"][0])
    item.update(changes)
    return item


def write(tmp_path, *items):
    path = tmp_path / "products.yaml"
    path.write_text(yaml.safe_dump({"products": list(items)}, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_products_file_offers_yongjun_chuangye():
    products = load_products()
    assert "yongjun_chuangye" in products
    p = products["yongjun_chuangye"]
    assert isinstance(p, Product)
    assert p.name == "拥军创业贷"
    assert isinstance(p.max_principal, Decimal) and p.min_principal < p.max_principal
    assert p.counties and all(len(c) == 6 and c.startswith("6523") for c in p.counties)
    assert isinstance(p.counties, tuple)
    assert "registered_veteran" in p.criteria
    assert p.criteria["age_within_limits"] == {"min_age": 18, "max_age": 60}


def test_products_file_is_read_from_the_path_given(tmp_path):
    path = write(
        tmp_path, product(code="other_loan", max_principal="5000.00", min_principal="1000.00")
    )
    products = load_products(path)
    assert list(products) == ["other_loan"]
    assert products["other_loan"].max_principal == Decimal("5000.00")


def test_products_file_is_read_from_products_file_env_var(tmp_path, monkeypatch):
    path = write(tmp_path, product(code="env_loan"))
    monkeypatch.setenv("PRODUCTS_FILE", str(path))
    assert list(load_products()) == ["env_loan"]


def test_an_empty_criterion_written_as_null_becomes_an_empty_dict(tmp_path):
    item = product()
    item["criteria"]["no_active_loan"] = None
    assert load_products(write(tmp_path, item))["yongjun_chuangye"].criteria["no_active_loan"] == {}


def test_min_principal_above_max_principal_is_refused(tmp_path):
    path = write(tmp_path, product(min_principal="400000.00", max_principal="300000.00"))
    with pytest.raises(ValueError, match="min_principal is above max_principal") as caught:
        load_products(path)
    assert str(path) in str(caught.value)


def test_an_unknown_criterion_code_is_refused_naming_it(tmp_path):
    item = product()
    item["criteria"]["credit_score_above"] = {"min": 600}
    with pytest.raises(ValueError, match="credit_score_above"):
        load_products(write(tmp_path, item))


def test_a_county_outside_the_jurisdiction_is_refused_naming_its_place(tmp_path):
    path = write(tmp_path, product(counties=["652301", "110101"]))
    with pytest.raises(ValueError, match=r"'counties': {1: \['not a county of"):
        load_products(path)


def test_a_products_file_without_products_is_refused(tmp_path):
    path = tmp_path / "products.yaml"
    path.write_text("products: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="products"):
        load_products(path)


def test_an_unknown_repayment_method_is_refused(tmp_path):
    with pytest.raises(ValueError, match="repayment_method"):
        load_products(write(tmp_path, product(repayment_method="balloon")))


def test_two_products_with_the_same_code_are_refused(tmp_path):
    path = write(tmp_path, product(max_principal="300000.00"), product(max_principal="50000.00"))
    with pytest.raises(ValueError, match="yongjun_chuangye"):
        load_products(path)


@pytest.mark.parametrize(
    "criteria",
    [
        {"age_within_limits": {"min_age": 61, "max_age": 60}},
        {"age_within_limits": {"min_age": "eighteen"}},
        {"business_intent": {"willingness": ["gambling"]}},
    ],
)
def test_criterion_settings_that_make_no_sense_are_refused(tmp_path, criteria):
    path = write(tmp_path, product(criteria=criteria))
    with pytest.raises(ValueError, match="criteria"):
        load_products(path)


def test_the_shipped_product_is_priced_from_the_one_year_lpr_with_a_configurable_spread():
    p = load_products()["yongjun_chuangye"]
    assert (p.rate_spread, p.lpr_term) == (Decimal("0.0000"), "one_year")
    assert p.borrower_kinds == (
        "individual",
        "individual_business",
        "small_micro_enterprise",
        "cooperative",
    )
    assert (p.subsidy_tiers, p.subsidy_months) == ((), None)
    assert "repeat_limit" in p.criteria


def test_local_subsidy_rules_and_an_exclusion_load(tmp_path):
    item = product(
        rate_spread="-0.0050",
        subsidy_tiers=[{"max_years_since_discharge": 5, "share": "1.00"}],
        subsidy_months=24,
    )
    item["criteria"]["placement_not_in"] = {
        "discharge_types": ["assigned_job"],
        "employment_statuses": ["public_welfare_post"],
    }
    p = load_products(write(tmp_path, item))["yongjun_chuangye"]
    assert p.rate_spread == Decimal("-0.0050") and p.subsidy_months == 24
    assert p.subsidy_tiers == ({"max_years_since_discharge": 5, "share": Decimal("1.00")},)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"annual_rate": "0.0435"}, "annual_rate"),  # the fixed rate is gone: LPR + spread
        ({"lpr_term": "ten_year"}, "lpr_term"),
        ({"borrower_kinds": ["partnership"]}, "borrower_kinds"),
        ({"subsidy_tiers": [{"max_years_since_discharge": 5, "share": "1.5"}]}, "share"),
        ({"subsidy_months": -1}, "subsidy_months"),
    ],
)
def test_a_bad_pricing_field_stops_loading(tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        load_products(write(tmp_path, product(**changes)))


def test_placement_not_in_must_name_taxonomy_codes(tmp_path):
    item = product()
    item["criteria"]["placement_not_in"] = {"discharge_types": ["assigned_jobs"]}
    with pytest.raises(ValueError, match="placement_not_in"):
        load_products(write(tmp_path, item))
