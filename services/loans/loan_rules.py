"""The policy sections of loans' rules (services/loans/policy.yaml): caps and terms per
borrower kind (``loan_caps``), the interest subsidy (``loan_subsidy``) and repeat loans
(``loan_repeat_limits``), and the pure functions that read them: pricing a loan at
signing and the share of its interest the government pays."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.loans.policy import RATE, Entry, Policy, register

BORROWER_KINDS = ("individual", "individual_business", "small_micro_enterprise", "cooperative")
# The booklet kind (registry's enterprise_kind) a borrower kind's enterprise must have.
BOOKLET_KIND = {
    "individual_business": "individual_business",
    "small_micro_enterprise": "enterprise",
    "cooperative": "cooperative",
}
SHARE_PLACES = Decimal("0.000001")  # loans.subsidy share is numeric(8, 6)


class KindCap(Schema):
    max_principal = fields.Decimal(required=True, places=2, validate=validate.Range(min=0))
    max_term_months = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    # The small and micro enterprise's condition: new hires on contracts of a year or more
    # of at least ``new_hire_share`` of the workforce (``new_hire_share_large`` above
    # ``large_above`` staff).
    new_hire_share = fields.Decimal(load_default=None, allow_none=True, validate=RATE)
    new_hire_share_large = fields.Decimal(load_default=None, allow_none=True, validate=RATE)
    large_above = fields.Integer(load_default=None, allow_none=True)
    unverified = fields.Boolean(load_default=False)
    note = fields.String(load_default=None, allow_none=True)


@register("loan_caps")
class LoanCapsValues(Schema):
    """Cap and longest term per borrower kind."""

    kinds = fields.Dict(
        keys=fields.String(validate=validate.OneOf(BORROWER_KINDS)),
        values=fields.Nested(KindCap),
        required=True,
    )


@register("loan_subsidy")
class LoanSubsidyValues(Schema):
    """How much of a loan's interest the government pays. ``share_of_rate``: that share of
    the actual rate; ``borrower_pays_below_lpr_minus``: the borrower pays the rate up to
    LPR minus this margin, the government the rest. ``overdue``/``extended``: ``none``
    (no subsidy on an overdue instalment, on an extended loan)."""

    kind = fields.String(
        required=True, validate=validate.OneOf(["share_of_rate", "borrower_pays_below_lpr_minus"])
    )
    share_of_rate = fields.Decimal(load_default=None, allow_none=True, validate=RATE)
    borrower_pays_below_lpr_minus = fields.Decimal(
        load_default=None, allow_none=True, validate=RATE
    )
    overdue = fields.String(load_default="none", validate=validate.OneOf(["none"]))
    extended = fields.String(load_default="none", validate=validate.OneOf(["none"]))

    @validates_schema
    def kind_has_its_figure(self, data, **kwargs):
        if data.get(data["kind"]) is None:
            raise ValidationError(f"a {data['kind']} rule needs {data['kind']}", data["kind"])


@register("loan_repeat_limits")
class RepeatLimitValues(Schema):
    """Most loans a borrower of each kind may have had disbursed (any product), and what a
    good record means (``no_written_off``: no loan of theirs written off)."""

    limits = fields.Dict(
        keys=fields.String(validate=validate.OneOf(BORROWER_KINDS)),
        values=fields.Integer(strict=True, validate=validate.Range(min=1)),
        required=True,
    )
    good_record = fields.String(
        load_default="no_written_off", validate=validate.OneOf(["no_written_off"])
    )


@dataclass(frozen=True)
class Pricing:
    """A loan's price fixed at signing: the LPR entry and value, the product's spread, the
    rate, the subsidy rule and the share of each instalment's interest it pays."""

    lpr: Decimal
    lpr_entry: str
    rate_spread: Decimal
    annual_rate: Decimal
    subsidy_rule: str
    subsidy_share: Decimal


def whole_years(since: dt.date, day: dt.date) -> int:
    years = day.year - since.year
    return years - ((day.month, day.day) < (since.month, since.day))


def rule_share(rule: Entry, rate: Decimal, lpr: Decimal) -> Decimal:
    """The share of the interest ``rule`` pays on a loan at ``rate`` when the LPR is
    ``lpr``: the rule's share of the rate, or (before 2023) the part of the rate above
    LPR − margin, as a share of the rate."""
    if rule["kind"] == "share_of_rate":
        return Decimal(rule["share_of_rate"])
    if rate <= 0:
        return Decimal(0)
    borrower_part = max(Decimal(0), lpr - rule["borrower_pays_below_lpr_minus"])
    share = max(Decimal(0), rate - borrower_part) / rate
    return min(Decimal(1), share).quantize(SHARE_PLACES)


def tier_share(tiers: list[dict[str, Any]], discharged_on: dt.date | None, day: dt.date):
    """The share of the first tier (fewest years first) the veteran is within on ``day``:
    signed before the ``max_years_since_discharge``-th anniversary of discharge; None when
    none applies or the discharge date is unknown."""
    if discharged_on is None:
        return None
    years = whole_years(discharged_on, day)
    for tier in sorted(tiers, key=lambda t: t["max_years_since_discharge"]):
        if years < tier["max_years_since_discharge"]:
            return Decimal(tier["share"])
    return None


def price(policy: Policy, product, day: dt.date, discharged_on: dt.date | None) -> Pricing:
    """The loan's price signed on ``day``: LPR in force (the product's term) + spread; the
    subsidy rule in force and its share, or the product's tier for the veteran's years
    since discharge when one applies. ``NoRule`` when no LPR or subsidy rule is in force."""
    return price_at(policy, product, day, discharged_on, None)


def price_at(
    policy: Policy, product, day: dt.date, discharged_on: dt.date | None, rate: Decimal | None
) -> Pricing:
    """As ``price``, at ``rate`` when a partner bank set it (the referral workflow: its
    spread over the LPR is then what the bank chose), else LPR + the product's spread."""
    lpr_entry = policy.in_force("lpr", day)
    lpr = Decimal(lpr_entry[product.lpr_term])
    if rate is None:
        rate = lpr + product.rate_spread
    rule = policy.in_force("loan_subsidy", day)
    share = tier_share(list(product.subsidy_tiers), discharged_on, day)
    if share is None:
        share = rule_share(rule, rate, lpr)
    return Pricing(lpr, lpr_entry.id, rate - lpr, rate, rule.id, share)


def kind_cap(policy: Policy, kind: str, day: dt.date) -> tuple[Entry, dict[str, Any]] | None:
    """The ``loan_caps`` entry in force and its figures for ``kind``; None when none."""
    entries = [e for e in policy.entries("loan_caps") if e.covers(day)]
    if not entries or kind not in entries[0]["kinds"]:
        return None
    return entries[0], entries[0]["kinds"][kind]


def repeat_limits(policy: Policy, day: dt.date) -> dict[str, int] | None:
    entries = [e for e in policy.entries("loan_repeat_limits") if e.covers(day)]
    return dict(entries[0]["limits"]) if entries else None


def new_hires_problem(cap: dict[str, Any], employees, new_hires) -> str | None:
    """Why a small or micro enterprise does not meet the new-hire condition, or None."""
    share, large = cap.get("new_hire_share"), cap.get("new_hire_share_large")
    if share is None:
        return None
    if employees is None or new_hires is None:
        return (
            "the booklet does not give employees and new_hires (hires of the past 12"
            " months on contracts of a year or more)"
        )
    if large is not None and cap.get("large_above") is not None and employees > cap["large_above"]:
        share = large
    needed = Decimal(employees) * Decimal(share)
    if Decimal(new_hires) < needed:
        return (
            f"{new_hires} new hires is below {share * 100:.0f} % of {employees} employees"
            f" ({needed.normalize()} needed)"
        )
    return None
