"""Events published by jobs (the service comes with its own issue; the contract is fixed)."""

from marshmallow import fields

from shared.contracts.base import EventData, codes

JOB_POSTED, JOB_CLOSED = "job_posted", "job_closed"
APPLICATION_SUBMITTED, VETERAN_HIRED = "application_submitted", "veteran_hired"


class JobPosted(EventData):
    posting_id = fields.String(required=True)
    employer_id = fields.String(required=True)
    county_code = fields.String(required=True)
    occupation = fields.String(required=True)
    skills_required = codes(required=True)
    openings = fields.Integer(required=True)
    dedicated = fields.Boolean(required=True)
    source = fields.String(required=True)


class JobClosed(EventData):
    posting_id = fields.String(required=True)
    reason = fields.String(required=True)


class ApplicationSubmitted(EventData):
    application_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    posting_id = fields.String(required=True)
    channel = fields.String(required=True)


class VeteranHired(EventData):
    application_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    posting_id = fields.String(required=True)
    employer_id = fields.String(required=True)
    employer_name = fields.String(load_default=None, allow_none=True)
    county_code = fields.String(required=True)
    started_on = fields.Date(required=True)
    salary = fields.Integer(required=True)
    channel = fields.String(required=True)
    # Since issue 20 (absent from older events: the defaults), for the employer's tax
    # relief: the labour contract's length in months (None: not stated), whether social
    # insurance is paid, and from when (None: from the start).
    contract_months = fields.Integer(allow_none=True, load_default=None)
    social_insurance = fields.Boolean(load_default=False)
    insured_from = fields.Date(allow_none=True, load_default=None)


SCHEMAS = {
    JOB_POSTED: JobPosted(),
    JOB_CLOSED: JobClosed(),
    APPLICATION_SUBMITTED: ApplicationSubmitted(),
    VETERAN_HIRED: VeteranHired(),
}
