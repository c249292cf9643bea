"""What the referral workflow loads and answers (referral.py's RPCs and bank_http.py's
endpoints load the same inputs; the HTTP replies dump through these outputs, and the
bank's OpenAPI document is generated from both)."""

from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.loans.referral_domain import REVISIT_OUTCOMES
from services.loans.schemas import Money
from shared.validation import HISTORY

MAX_RATE = Decimal("0.36")  # a sanity bound on a bank's annual rate, not a policy figure
MONEY_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"
RATE_PATTERN = r"^0(\.[0-9]{1,6})?$"


class Rate(fields.Field):
    """An annual rate as a string, e.g. "0.0385" (at most six decimals, above 0, at most
    MAX_RATE); floats are refused as money is."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError('must be a rate as a string, e.g. "0.0385"')
        try:
            rate = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError("is not a rate") from None
        exponent = rate.as_tuple().exponent
        if not isinstance(exponent, int) or exponent < -6:
            raise ValidationError("must have at most six decimals")
        if not 0 < rate <= MAX_RATE:
            raise ValidationError(f"must be above 0 and at most {MAX_RATE}")
        return rate

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value.normalize())


def _text(max_length, **kwargs):
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


class ReferSchema(Schema):
    bank_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    note = _text(500, allow_none=True, load_default=None)


class DecisionSchema(Schema):
    """The bank's decision: approved with its amount, term and rate, or rejected with a
    reason."""

    outcome = fields.String(required=True, validate=validate.OneOf(["approved", "rejected"]))
    approved_amount = Money(load_default=None, allow_none=True)
    term_months = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=360)
    )
    annual_rate = Rate(load_default=None, allow_none=True)
    reason = _text(500, load_default=None, allow_none=True)
    note = _text(500, load_default=None, allow_none=True)

    @validates_schema
    def what_the_outcome_needs(self, data, **kwargs):
        if data.get("outcome") == "approved":
            missing = {
                name: ["is required when the outcome is approved"]
                for name in ("approved_amount", "term_months", "annual_rate")
                if data.get(name) is None
            }
            if missing:
                raise ValidationError(missing)
        elif data.get("outcome") == "rejected" and data.get("reason") is None:
            raise ValidationError({"reason": ["is required when the outcome is rejected"]})


class BankDisbursementSchema(Schema):
    disbursed_on = fields.Date(required=True, validate=HISTORY)


class BankRepaymentSchema(Schema):
    amount = Money(required=True)
    paid_on = fields.Date(required=True, validate=HISTORY)


class RevisitSchema(Schema):
    visited_on = fields.Date(required=True, validate=HISTORY)
    outcome = fields.String(required=True, validate=validate.OneOf(sorted(REVISIT_OUTCOMES)))
    note = _text(500, load_default=None, allow_none=True)


class ReferralsQuerySchema(Schema):
    since = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**62))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


# -- what the bank is answered ----------------------------------------------------------------
class BankLoanSchema(Schema):
    """A loan as its bank sees it: no names, ID numbers or phones (the applicant brings
    the loan id to the bank in person)."""

    loan_id = fields.String(required=True)
    status = fields.String(required=True)
    product_code = fields.String(required=True)
    amount = fields.String(required=True, metadata={"description": "applied for, yuan"})
    approved_amount = fields.String(allow_none=True, required=True)
    term_months = fields.Integer(allow_none=True, required=True)
    annual_rate = fields.String(allow_none=True, required=True)
    referred_on = fields.Date(allow_none=True, required=True)
    approved_on = fields.Date(allow_none=True, required=True)
    disbursed_on = fields.Date(allow_none=True, required=True)
    closed_on = fields.Date(allow_none=True, required=True)
    days_overdue = fields.Integer(required=True)
    outstanding = fields.String(
        allow_none=True, required=True, metadata={"description": "owed now (once disbursed)"}
    )


class BankRevisitSchema(Schema):
    revisit_id = fields.String(required=True)
    loan_id = fields.String(required=True)
    visited_on = fields.Date(required=True)
    outcome = fields.String(required=True)


class ReferralSchema(Schema):
    cursor = fields.Integer(required=True)
    loan_id = fields.String(required=True)
    product_code = fields.String(required=True)
    county_code = fields.String(allow_none=True, required=True)
    amount = fields.String(required=True)
    term_months = fields.Integer(allow_none=True, required=True)
    purpose = fields.String(allow_none=True, required=True)
    enterprise_id = fields.String(allow_none=True, required=True)
    referred_on = fields.Date(allow_none=True, required=True)
    status = fields.String(required=True)


class ReferralsSchema(Schema):
    items = fields.List(fields.Nested(ReferralSchema), required=True)
    next_cursor = fields.Integer(required=True)


class ErrorSchema(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)


REFER_INPUT = ReferSchema()
DECISION_INPUT = DecisionSchema()
DISBURSEMENT_INPUT = BankDisbursementSchema()
REPAYMENT_INPUT = BankRepaymentSchema()
REVISIT_INPUT = RevisitSchema()
REFERRALS_INPUT = ReferralsQuerySchema()
BANK_LOAN_OUTPUT = BankLoanSchema()
REVISIT_OUTPUT = BankRevisitSchema()
REFERRALS_OUTPUT = ReferralsSchema()
