"""Events published by loans."""

from marshmallow import fields

from shared.contracts.base import EventData

LOAN_ELIGIBILITY_ASSESSED = "loan_eligibility_assessed"


class Criterion(EventData):
    code = fields.String(required=True)
    passed = fields.Boolean(required=True)
    detail = fields.String(required=True)


class LoanEligibilityAssessed(EventData):
    veteran_id = fields.String(required=True)
    product_code = fields.String(required=True)
    eligible = fields.Boolean(required=True)
    max_amount = fields.Decimal(required=True, as_string=True, places=2)
    max_term_months = fields.Integer(required=True)
    failed_criteria = fields.List(fields.String(), required=True)
    assessment_id = fields.String(required=True)
    cause_event_id = fields.String(allow_none=True, load_default=None)


SCHEMAS: dict[str, EventData] = {
    LOAN_ELIGIBILITY_ASSESSED: LoanEligibilityAssessed(),
}

LOAN_APPLIED, LOAN_APPROVED, LOAN_REJECTED = "loan_applied", "loan_approved", "loan_rejected"
LOAN_DISBURSED, LOAN_CLOSED = "loan_disbursed", "loan_closed"
SUBSIDY_GRANTED = "subsidy_granted"


class LoanChanged(EventData):
    loan_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    enterprise_id = fields.String(allow_none=True, load_default=None)
    product_code = fields.String(required=True)
    amount = fields.Decimal(required=True, as_string=True, places=2)
    status = fields.String(required=True)


class SubsidyGranted(EventData):
    subsidy_id = fields.String(required=True)
    veteran_id = fields.String(allow_none=True, load_default=None)
    enterprise_id = fields.String(allow_none=True, load_default=None)
    kind = fields.String(required=True)
    amount = fields.Decimal(required=True, as_string=True, places=2)


SCHEMAS.update(
    {
        t: LoanChanged()
        for t in (LOAN_APPLIED, LOAN_APPROVED, LOAN_REJECTED, LOAN_DISBURSED, LOAN_CLOSED)
    }
)
SCHEMAS[SUBSIDY_GRANTED] = SubsidyGranted()

TAX_RELIEF_RECORDED = "tax_relief_recorded"


class TaxReliefRecorded(EventData):
    """Relief a subject actually deducted, recorded against its computed entitlement: one
    of veteran_id (self-employed), enterprise_id (an individual business), employer_id
    (jobs' employer). No names."""

    tax_relief_id = fields.String(required=True)
    veteran_id = fields.String(allow_none=True, load_default=None)
    enterprise_id = fields.String(allow_none=True, load_default=None)
    employer_id = fields.String(allow_none=True, load_default=None)
    tax_year = fields.Integer(required=True)
    amount = fields.Decimal(required=True, as_string=True, places=2)
    policy_ids = fields.List(fields.String(), load_default=list)


SCHEMAS[TAX_RELIEF_RECORDED] = TaxReliefRecorded()
LOAN_EXTENDED = "loan_extended"


class LoanExtended(EventData):
    """展期: the loan's unpaid principal re-spread over more months, without subsidy."""

    loan_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    product_code = fields.String(required=True)
    extra_months = fields.Integer(required=True)


SCHEMAS[LOAN_EXTENDED] = LoanExtended()


class LoanDisbursed(LoanChanged):
    # The bureau's day the money reached the veteran: followup's business revisits count
    # from it. Events from before issue 20 lack it (consumers then take the day the event
    # occurred), so it may be absent, but loans always sends it now.
    disbursed_on = fields.Date(allow_none=True, load_default=None)


SCHEMAS[LOAN_DISBURSED] = LoanDisbursed()

# The referral workflow (services/loans/referral.py): the bureau refers a verified
# application to a partner bank, which later reports its post-loan revisits.
LOAN_REFERRED, LOAN_REVISIT_REPORTED = "loan_referred", "loan_revisit_reported"


class LoanReferred(EventData):
    loan_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    product_code = fields.String(required=True)
    bank_code = fields.String(required=True)


class LoanRevisitReported(EventData):
    loan_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    visited_on = fields.Date(required=True)
    outcome = fields.String(required=True)


SCHEMAS[LOAN_REFERRED] = LoanReferred()
SCHEMAS[LOAN_REVISIT_REPORTED] = LoanRevisitReported()
