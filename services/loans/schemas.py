"""RPC input schemas of loans. Money comes as a string (or a whole number) with at most two
decimals, never a float, and becomes a Decimal."""

from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from services.loans.loan_rules import BORROWER_KINDS
from services.loans.products import SUBSIDY_KINDS
from shared.validation import HISTORY, loading_day

MAX_MONEY = Decimal("100000000.00")


class Money(fields.Field):
    """ "12345.60" or 12345 → Decimal('12345.60'); floats, more than two decimals, zero or
    negative amounts are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError(
                'must be an amount as a string with at most two decimals, e.g. "100000.00"'
            )
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError("is not an amount") from None
        exponent = amount.as_tuple().exponent  # a letter for NaN and infinities
        if not isinstance(exponent, int) or exponent < -2:
            raise ValidationError("must have at most two decimals")
        if amount <= 0 or amount > MAX_MONEY:
            raise ValidationError(f"must be above 0 and at most {MAX_MONEY}")
        return amount.quantize(Decimal("0.01"))


def _text(max_length, **kwargs):
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


class ApplyLoanSchema(Schema):
    veteran_id = fields.UUID(required=True)
    product_code = fields.String(required=True, validate=validate.Length(min=1, max=50))
    amount = Money(required=True)
    term_months = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=360)
    )
    purpose = _text(500, required=True)
    enterprise_id = fields.UUID(allow_none=True, load_default=None)
    borrower_kind = fields.String(
        load_default="individual", validate=validate.OneOf(BORROWER_KINDS)
    )


class ApproveLoanSchema(Schema):
    approved_amount = Money(load_default=None, allow_none=True)
    note = _text(500, allow_none=True, load_default=None)


class ReasonSchema(Schema):
    reason = _text(500, required=True)


class DisburseSchema(Schema):
    disbursed_on = fields.Date(required=True, validate=HISTORY)


class ExtendSchema(Schema):
    extra_months = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=120)
    )
    note = _text(500, allow_none=True, load_default=None)


class RepaymentSchema(Schema):
    amount = Money(required=True)
    paid_on = fields.Date(required=True, validate=HISTORY)


class _Beneficiary(Schema):
    veteran_id = fields.UUID(allow_none=True, load_default=None)
    enterprise_id = fields.UUID(allow_none=True, load_default=None)

    @validates_schema
    def exactly_one(self, data, **kwargs):
        if (data.get("veteran_id") is None) == (data.get("enterprise_id") is None):
            raise ValidationError(
                {"veteran_id": ["give a veteran_id or an enterprise_id, not both"]}
            )


class GrantSubsidySchema(_Beneficiary):
    kind = fields.String(required=True, validate=validate.OneOf(SUBSIDY_KINDS))
    amount = Money(required=True)
    period = fields.String(
        required=True,
        validate=validate.Regexp(r"^(19|20)\d{2}$", error='must be a year, e.g. "2026"'),
    )
    note = _text(500, allow_none=True, load_default=None)


class _ReliefSubject(Schema):
    """Whose tax relief: a self-employed veteran, a booklet enterprise (an individual
    business) or an employer (jobs' employer id), exactly one."""

    veteran_id = fields.UUID(allow_none=True, load_default=None)
    enterprise_id = fields.UUID(allow_none=True, load_default=None)
    employer_id = fields.UUID(allow_none=True, load_default=None)

    @validates_schema
    def exactly_one(self, data, **kwargs):
        given = [key for key in RELIEF_SUBJECTS if data.get(key) is not None]
        if len(given) != 1:
            raise ValidationError(
                {"veteran_id": ["give one of veteran_id, enterprise_id or employer_id"]}
            )


RELIEF_SUBJECTS = ("veteran_id", "enterprise_id", "employer_id")


def _not_after_next_year(value):
    # The bound moves with the bureau's calendar, checked when the input is loaded.
    if value > loading_day().year + 1:
        raise ValidationError(f"must be {loading_day().year + 1} or earlier")


def _tax_year(**kwargs):
    return fields.Integer(
        strict=True, validate=[validate.Range(min=2000), _not_after_next_year], **kwargs
    )


class ReliefSubjectSchema(_ReliefSubject):
    pass


class ReliefYearSchema(Schema):
    year = _tax_year(required=True)


class TaxReliefSchema(_ReliefSubject):
    """Relief actually deducted: ``amount`` (at most ``tax_due``, the tax the record says
    was due) against the entitlement the rules compute for ``tax_year``."""

    tax_year = _tax_year(required=True)
    amount = Money(required=True)
    tax_due = Money(required=True)
    note = _text(500, allow_none=True, load_default=None)
    # Refused with a message: the rule applied is the one in force (policy_ids on the record).
    policy = fields.Raw()

    @validates("policy")
    def no_free_policy(self, value, **kwargs):
        raise ValidationError(
            "is no longer taken: the entitlement is computed by the policy entries in force,"
            " which the record names (policy_ids)"
        )


APPLY_INPUT = ApplyLoanSchema()
APPROVE_INPUT = ApproveLoanSchema()
REASON_INPUT = ReasonSchema()
DISBURSE_INPUT = DisburseSchema()
REPAYMENT_INPUT = RepaymentSchema()
EXTEND_INPUT = ExtendSchema()
SUBSIDY_INPUT = GrantSubsidySchema()
TAX_RELIEF_INPUT = TaxReliefSchema()
RELIEF_SUBJECT_INPUT = ReliefSubjectSchema()
RELIEF_YEAR_INPUT = ReliefYearSchema()
