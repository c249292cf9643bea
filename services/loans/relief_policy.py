"""The tax relief sections of loans' policy table (services/loans/policy.yaml): the figures
of 退役士兵创业就业税收优惠 for the self-employed and for employers, with the province's
float (POLICY-NOTES.md). Listed in ``policy.SECTION_MODULES``."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.loans.policy import register

SHARE = validate.Range(min=0, max=1)


class _Relief(Schema):
    months = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=120))
    # The province may raise the national figure by up to ``max_float`` (a share); ``float``
    # is the raise it applied (0: the national figure).
    max_float = fields.Decimal(required=True, validate=SHARE)
    float = fields.Decimal(required=True, validate=SHARE)

    @validates_schema
    def float_within_max(self, data, **kwargs):
        if data.get("float") is not None and data.get("max_float") is not None:
            if data["float"] > data["max_float"]:
                raise ValidationError(
                    f"the province may raise the figure by at most {data['max_float']}",
                    "float",
                )


@register("tax_relief_self_employed")
class SelfEmployedRelief(_Relief):
    """A self-employed 自主就业 veteran: ``cap`` yuan a year (per household) for ``months``
    months from the month the individual business was registered."""

    cap = fields.Decimal(required=True, validate=validate.Range(min=0))


@register("tax_relief_employer")
class EmployerRelief(_Relief):
    """An employer: ``per_person`` yuan a year for each 自主就业 veteran hired on a contract
    of at least ``min_contract_months`` (with social insurance when required), for
    ``months`` months from the month both start."""

    per_person = fields.Decimal(required=True, validate=validate.Range(min=0))
    min_contract_months = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=120)
    )
    social_insurance_required = fields.Boolean(required=True)
