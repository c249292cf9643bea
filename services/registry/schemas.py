"""RPC input schemas of registry. Every code is checked against the taxonomy, every
county against the jurisdiction; every string has a length limit."""

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from shared.jurisdiction import Jurisdiction, county_validator, station_validator
from shared.taxonomy import code_of
from shared.validation import HISTORY, MOBILE, QUERY, loading_day


def codes(category, max_items=30):
    return fields.List(
        fields.String(validate=code_of(category)),
        load_default=list,
        validate=validate.Length(max=max_items),
    )


def check_id_number(value):
    """GB 11643-1999: 18 characters, a valid birth date and check character."""
    number = ric.compact(value)
    if len(number) != 18 or not number[:17].isdigit():
        raise ValidationError("must be 18 characters: 17 digits and a check digit or X")
    try:
        birth_date = ric.get_birth_date(number)
    except StdnumError:
        raise ValidationError("the birth date in it is impossible") from None
    if birth_date > loading_day():
        raise ValidationError("the birth date in it is in the future")
    if number[-1] != ric.calc_check_digit(number):
        raise ValidationError("the check character is wrong")


class IntentionsSchema(Schema):
    occupations = codes("occupations", 10)
    counties = fields.List(
        fields.String(validate=county_validator()),
        load_default=list,
        validate=validate.Length(max=20),
    )
    min_salary = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=0, max=1_000_000),
    )


class ConsentSchema(Schema):
    given_on = fields.Date(required=True, validate=HISTORY)
    scope = fields.List(
        fields.String(validate=code_of("consent_scope")),
        required=True,
        validate=validate.Length(min=1, max=10),
    )

    @post_load
    def as_json(self, data, **kwargs):
        return {"given_on": data["given_on"].isoformat(), "scope": data["scope"]}


class RegisterVeteranSchema(Schema):
    id_number = fields.String(required=True, validate=[validate.Length(max=32), check_id_number])
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    phone = fields.String(allow_none=True, load_default=None, validate=MOBILE)
    county_code = fields.String(required=True, validate=county_validator())
    station_code = fields.String(allow_none=True, load_default=None, validate=station_validator())
    address = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    ethnicity = fields.String(allow_none=True, load_default=None, validate=code_of("ethnicity"))
    education = fields.String(allow_none=True, load_default=None, validate=code_of("education"))
    branch = fields.String(allow_none=True, load_default=None, validate=code_of("branch"))
    rank_category = fields.String(
        allow_none=True, load_default=None, validate=code_of("rank_category")
    )
    enlisted_on = fields.Date(allow_none=True, load_default=None, validate=HISTORY)
    discharged_on = fields.Date(required=True, validate=HISTORY)
    discharge_type = fields.String(required=True, validate=code_of("discharge_type"))
    skills = codes("skills")
    certificates = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=list,
        validate=validate.Length(max=30),
    )
    intentions = fields.Nested(
        IntentionsSchema,
        load_default=lambda: {"occupations": [], "counties": [], "min_salary": None},
    )
    willingness = fields.String(required=True, validate=code_of("willingness"))
    employment_status = fields.String(required=True, validate=code_of("employment_status"))
    service_needs = codes("service_needs", 10)
    employer = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(min=1, max=100)
    )
    employed_since = fields.Date(allow_none=True, load_default=None, validate=HISTORY)
    consent = fields.Nested(ConsentSchema, allow_none=True, load_default=None)
    notes = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000))

    @post_load
    def normalise(self, data, **kwargs):
        if "id_number" in data:
            data["id_number"] = ric.compact(data["id_number"])
        if "name" in data:
            data["name"] = data["name"].strip()
        return data

    @validates_schema
    def check_dates(self, data, **kwargs):
        errors = {}
        today = loading_day()
        discharged, enlisted = data.get("discharged_on"), data.get("enlisted_on")
        if discharged and discharged > today:
            errors["discharged_on"] = ["is in the future"]
        if discharged and enlisted and enlisted > discharged:
            errors["enlisted_on"] = ["is after discharged_on"]
        if data.get("employed_since") and data["employed_since"] > today:
            errors["employed_since"] = ["is in the future"]
        if (
            data.get("employment_status") == "employed"
            and "employer" in data
            and not data.get("employer")
        ):
            errors["employer"] = ["is required when employment_status is employed"]
        if "county_code" in data and "station_code" in data:
            errors.update(station_errors(data["county_code"], data["station_code"]))
        if errors:
            raise ValidationError(errors)


def station_errors(county_code, station_code):
    """``{"station_code": [...]}`` unless the station (None: none) is one of the county's."""
    station = Jurisdiction.load().station(station_code)
    if station_code is None or station is None or station.county_code == county_code:
        return {}  # an unknown code is the field validator's to report
    return {"station_code": ["is not a station of the card's county_code"]}


class UpdateVeteranSchema(RegisterVeteranSchema):
    """A partial update: any field of the card but the ID number (and what derives from
    it); ``status_reason`` says why the employment status changed."""

    status_reason = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=200)
    )

    class Meta:
        exclude = ("id_number",)


class IdNumberSchema(Schema):
    id_number = fields.String(required=True, validate=[validate.Length(max=32), check_id_number])

    @post_load
    def normalise(self, data, **kwargs):
        return {"id_number": ric.compact(data["id_number"])}


class RevealSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=4, max=200))


class AuditQuerySchema(Schema):
    operator_id = fields.String(load_default=None, validate=validate.Length(max=100))
    action = fields.String(load_default=None, validate=validate.Length(max=50))
    since = fields.AwareDateTime(load_default=None, validate=QUERY)
    until = fields.AwareDateTime(load_default=None, validate=QUERY)
    page = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(
        strict=True, load_default=50, validate=validate.Range(min=1, max=500)
    )
