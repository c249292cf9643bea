"""Events published by registry. No personal identifier (ID number, name, phone) travels."""

from marshmallow import fields, validate

from shared.contracts.base import EventData, codes

VETERAN_REGISTERED = "veteran_registered"
VETERAN_UPDATED = "veteran_updated"


class Intentions(EventData):
    occupations = codes(load_default=list)
    counties = codes(load_default=list)
    min_salary = fields.Integer(allow_none=True, load_default=None)


class VeteranFacts(EventData):
    """The facts about a veteran that other services act on."""

    veteran_id = fields.String(required=True)
    county_code = fields.String(required=True, validate=validate.Length(equal=6))
    # The township or village station keeping the card (12 digits), None when not set;
    # absent from events published before stations existed.
    station_code = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(equal=12)
    )
    gender = fields.String(required=True, validate=validate.OneOf(["male", "female"]))
    birth_year = fields.Integer(required=True)
    discharge_type = fields.String(required=True)
    discharged_on = fields.Date(required=True)
    skills = codes(required=True)
    # Certificate names, not codes: as long as the card allows (100).
    certificates = fields.List(fields.String(validate=validate.Length(max=100)), required=True)
    willingness = fields.String(required=True)
    service_needs = codes(required=True)
    employment_status = fields.String(required=True)
    intentions = fields.Nested(Intentions, required=True)
    # Since issue 19 (absent from older events: the defaults). Codes and flags only: no
    # card number, no years of honours, no places.
    honours = codes(load_default=list)  # honours codes (立功受奖 kinds), each once
    disability_grade = fields.Integer(
        allow_none=True, load_default=None, validate=validate.Range(min=1, max=10)
    )
    difficulty_recognised = fields.Boolean(load_default=False)  # 就业困难 recognised
    late_report = fields.Boolean(load_default=False)  # reported in later than 30 days


class VeteranRegistered(VeteranFacts):
    pass


class VeteranUpdated(EventData):
    veteran_id = fields.String(required=True)
    changed = fields.Dict(keys=fields.String(), required=True)
    snapshot = fields.Nested(VeteranFacts, required=True)


SCHEMAS = {
    VETERAN_REGISTERED: VeteranRegistered(),
    VETERAN_UPDATED: VeteranUpdated(),
}

EMPLOYMENT_STATUS_CHANGED = "employment_status_changed"
ENTERPRISE_REGISTERED = "enterprise_registered"
ENTERPRISE_UPDATED = "enterprise_updated"


class EmploymentStatusChanged(EventData):
    veteran_id = fields.String(required=True)
    previous = fields.String(required=True)
    current = fields.String(required=True)
    reason = fields.String(required=True)
    cause_event_id = fields.String(allow_none=True, load_default=None)
    county_code = fields.String(load_default=None)


class EnterpriseFacts(EventData):
    enterprise_id = fields.String(required=True)
    kind = fields.String(
        required=True, validate=validate.OneOf(["enterprise", "individual_business", "cooperative"])
    )
    county_code = fields.String(required=True, validate=validate.Length(equal=6))
    industry = fields.String(required=True)
    stage = fields.String(
        required=True, validate=validate.OneOf(["startup", "operating", "closed"])
    )
    founder_ids = fields.List(fields.String(), required=True)
    founded_on = fields.Date(required=True)
    employees = fields.Integer(load_default=None, allow_none=True)
    veteran_employees = fields.Integer(load_default=None, allow_none=True)
    # Staff hired in the past 12 months on contracts of a year or more (the small and
    # micro enterprise loan's condition); absent from older events.
    new_hires = fields.Integer(load_default=None, allow_none=True)


class EnterpriseRegistered(EnterpriseFacts):
    pass


class EnterpriseUpdated(EventData):
    enterprise_id = fields.String(required=True)
    changed = fields.Dict(keys=fields.String(), required=True)
    snapshot = fields.Nested(EnterpriseFacts, required=True)


SCHEMAS.update(
    {
        EMPLOYMENT_STATUS_CHANGED: EmploymentStatusChanged(),
        ENTERPRISE_REGISTERED: EnterpriseRegistered(),
        ENTERPRISE_UPDATED: EnterpriseUpdated(),
    }
)
