"""Reads and checks the products file; a bad file stops the service with a clear error."""

import os
from pathlib import Path

import yaml
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from nameko.extensions import DependencyProvider

from services.loans.domain import KNOWN_CRITERIA, Product
from services.loans.loan_rules import BORROWER_KINDS
from services.loans.referral_domain import WORKFLOWS, Bank
from shared.jurisdiction import county_validator
from shared.taxonomy import Taxonomy

DEFAULT_PATH = Path(__file__).resolve().parent / "products.yaml"


class SubsidyTierSchema(Schema):
    max_years_since_discharge = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1)
    )
    share = fields.Decimal(required=True, validate=validate.Range(min=0, max=1))


class ProductSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]*$"))
    name = fields.String(required=True)
    lender = fields.String(required=True)
    counties = fields.List(fields.String(validate=county_validator()), required=True)
    min_principal = fields.Decimal(required=True, places=2, validate=validate.Range(min=0))
    max_principal = fields.Decimal(required=True, places=2, validate=validate.Range(min=0))
    max_term_months = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=360)
    )
    # The spread over the LPR at signing (may be negative) and which LPR (loan_rules.price).
    rate_spread = fields.Decimal(required=True, validate=validate.Range(min=-1, max=1))
    lpr_term = fields.String(required=True, validate=validate.OneOf(["one_year", "five_year"]))
    borrower_kinds = fields.List(
        fields.String(validate=validate.OneOf(BORROWER_KINDS)),
        load_default=lambda: ["individual"],
        validate=validate.Length(min=1),
    )
    subsidy_tiers = fields.List(fields.Nested(SubsidyTierSchema), load_default=list)
    subsidy_months = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=0)
    )
    repayment_method = fields.String(
        required=True, validate=validate.OneOf(["equal_instalments", "interest_only"])
    )
    criteria = fields.Dict(
        keys=fields.String(validate=validate.OneOf(sorted(KNOWN_CRITERIA))),
        values=fields.Dict(allow_none=True),
        required=True,
    )
    # in_house (the bureau approves and disburses) or referral (a partner bank decides:
    # referral.py); a referral product names its banks by code (the file's ``banks``).
    workflow = fields.String(load_default="in_house", validate=validate.OneOf(WORKFLOWS))
    partner_banks = fields.List(fields.String(), load_default=list)
    figures_unverified = fields.Boolean(load_default=False)

    @validates_schema
    def check_workflow(self, data, **kwargs):
        if data.get("workflow") == "referral" and not data.get("partner_banks"):
            raise ValidationError("a referral product lists its partner_banks", "partner_banks")
        if data.get("workflow", "in_house") == "in_house" and data.get("partner_banks"):
            raise ValidationError("an in_house product has no partner_banks", "partner_banks")

    @validates_schema
    def check_range(self, data, **kwargs):
        if data["min_principal"] > data["max_principal"]:
            raise ValidationError("min_principal is above max_principal", "min_principal")
        age = data["criteria"].get("age_within_limits") or {}
        low, high = age.get("min_age", 18), age.get("max_age", 60)
        if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high <= 120):
            raise ValidationError(
                "age_within_limits needs whole-number ages, min_age <= max_age", "criteria"
            )
        wanted = (data["criteria"].get("business_intent") or {}).get("willingness", ["business"])
        unknown = Taxonomy.load().unknown(
            "willingness", wanted if isinstance(wanted, list) else [wanted]
        )
        if unknown or not isinstance(wanted, list):
            raise ValidationError(
                f"business_intent.willingness has unknown codes {unknown}", "criteria"
            )
        placement = data["criteria"].get("placement_not_in") or {}
        if Taxonomy.load().unknown("discharge_type", placement.get("discharge_types", [])) or (
            Taxonomy.load().unknown("employment_status", placement.get("employment_statuses", []))
        ):
            raise ValidationError(
                "placement_not_in lists unknown discharge_type or employment_status codes",
                "criteria",
            )
        stages = (data["criteria"].get("business_intent") or {}).get("stages", [])
        if not isinstance(stages, list) or Taxonomy.load().unknown("enterprise_stage", stages):
            raise ValidationError(
                "business_intent.stages must list enterprise_stage codes", "criteria"
            )


SUBSIDY_KINDS = ("startup", "employment", "training", "interest")


class SubsidyCapSchema(Schema):
    cap_per_period = fields.Decimal(required=True, places=2, validate=validate.Range(min=0))


class BankSchema(Schema):
    """A partner bank (承办银行): the code it signs its reports as (X-Bank-Code, and the key
    of its secret in BANK_HMAC_SECRETS), its name, the id of its signing key, and ``demo``
    for a bank made up for the demo (never a real bank presented as a partner)."""

    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    key_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    demo = fields.Boolean(load_default=False)


class ProductsFile(Schema):
    products = fields.List(
        fields.Nested(ProductSchema), required=True, validate=validate.Length(min=1)
    )
    # What one veteran or enterprise may be granted per kind and period (a year).
    subsidies = fields.Dict(
        keys=fields.String(validate=validate.OneOf(SUBSIDY_KINDS)),
        values=fields.Nested(SubsidyCapSchema),
        load_default=dict,
    )
    banks = fields.List(fields.Nested(BankSchema), load_default=list)


class Products(dict):
    """code → Product, and ``subsidy_caps``: kind → the cap per beneficiary and period
    (a kind without one has no cap)."""

    def __init__(self, products, subsidy_caps, banks=None):
        super().__init__(products)
        self.subsidy_caps = subsidy_caps
        self.banks: dict[str, Bank] = banks or {}  # code → the partner bank


def load_products(path=None):
    path = Path(path or os.environ.get("PRODUCTS_FILE") or DEFAULT_PATH)
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    try:
        data = ProductsFile().load(raw)
    except ValidationError as exc:
        raise ValueError(f"{path}: {exc.messages}") from None
    banks = {}
    for bank in data["banks"]:
        if bank["code"] in banks:
            raise ValueError(f"{path}: bank code {bank['code']} appears twice")
        banks[bank["code"]] = Bank(**bank)
    products = {}
    for item in data["products"]:
        if item["code"] in products:
            raise ValueError(f"{path}: product code {item['code']} appears twice")
        item["counties"] = tuple(item["counties"])
        item["criteria"] = {k: (v or {}) for k, v in item["criteria"].items()}
        item["borrower_kinds"] = tuple(item["borrower_kinds"])
        item["subsidy_tiers"] = tuple(item["subsidy_tiers"])
        unknown = [code for code in item["partner_banks"] if code not in banks]
        if unknown:
            raise ValueError(f"{path}: product {item['code']} names unknown banks {unknown}")
        item["partner_banks"] = tuple(item["partner_banks"])
        products[item["code"]] = Product(**item)
    return Products(
        products, {kind: cap["cap_per_period"] for kind, cap in data["subsidies"].items()}, banks
    )


class ProductCatalog(DependencyProvider):
    """Injects the products (code → Product) read once from config's PRODUCTS_FILE."""

    def setup(self):
        self.products = load_products(self.container.config.get("PRODUCTS_FILE") or None)

    def get_dependency(self, worker_ctx):
        return self.products
