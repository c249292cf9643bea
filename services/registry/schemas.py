"""RPC input schemas of registry. Every code is checked against the taxonomy, every
county against the jurisdiction; every string has a length limit."""

import re

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from services.registry import card_rules
from services.registry.domain import card_problems
from shared.jurisdiction import Jurisdiction, county_validator, station_validator
from shared.taxonomy import Code
from shared.validation import HISTORY, MOBILE, QUERY, loading_day

# 优待证号: its national format was not found; 1-32 ASCII letters and digits, nothing else.
CARD_NUMBER = re.compile(r"[A-Za-z0-9]{1,32}")
# An administrative division: county (6), township (9) or village (12) code, ASCII digits.
DIVISION = re.compile(r"[0-9]{6}(?:[0-9]{3}){0,2}")


def codes(category, max_items=30):
    return fields.List(Code(category), load_default=list, validate=validate.Length(max=max_items))


def code(category, **kwargs):
    """An optional code of ``category`` (old codes and labels load as the current one)."""
    return Code(category, allow_none=True, load_default=None, **kwargs)


def matching(pattern, message):
    def check(value):
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ValidationError(message)

    return check


CARD_NUMBER_CHECK = matching(CARD_NUMBER, "must be 1-32 ASCII letters or digits")
DIVISION_CHECK = matching(DIVISION, "must be an administrative division code of 6, 9 or 12 digits")


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


class HonourSchema(Schema):
    """立功受奖: which honour, and the year it was awarded."""

    kind = Code("honours", required=True)
    year = fields.Integer(strict=True, required=True, validate=validate.Range(min=1950, max=2200))

    @validates_schema
    def not_in_the_future(self, data, **kwargs):
        if data.get("year") and data["year"] > loading_day().year:
            raise ValidationError({"year": ["is in the future"]})


class DifficultySchema(Schema):
    """就业困难: recognised or not, why, the help given and its outcome."""

    recognised = fields.Boolean(required=True)
    reasons = codes("difficulty_reason", 10)
    help = codes("difficulty_help", 10)
    outcome = code("difficulty_outcome")

    @validates_schema
    def reasons_when_recognised(self, data, **kwargs):
        if data.get("recognised") and not data.get("reasons"):
            raise ValidationError({"reasons": ["are required when recognised"]})


class IntentionsSchema(Schema):
    occupations = codes("occupations", 10)  # ours, or their 职业分类大典 codes
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
        Code("consent_scope"),
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
    ethnicity = code("ethnicity")
    education = code("education")
    branch = code("branch")
    rank_category = code("rank_category")
    enlisted_on = fields.Date(allow_none=True, load_default=None, validate=HISTORY)
    discharged_on = fields.Date(required=True, validate=HISTORY)
    discharge_type = Code("discharge_type", required=True)  # the placement type (安置方式)
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
    willingness = Code("willingness", required=True)
    employment_status = Code("employment_status", required=True)
    service_needs = codes("service_needs", 10)
    employer = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(min=1, max=100)
    )
    employed_since = fields.Date(allow_none=True, load_default=None, validate=HISTORY)
    consent = fields.Nested(ConsentSchema, allow_none=True, load_default=None)
    notes = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000))
    # The card the national collection keeps (issue 19).
    political_status = code("political_status")
    preferential_card_number = fields.String(
        allow_none=True, load_default=None, validate=CARD_NUMBER_CHECK
    )
    honours = fields.List(
        fields.Nested(HonourSchema), load_default=list, validate=validate.Length(max=30)
    )
    health = code("health")
    disability_grade = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1, max=10)
    )
    employment_difficulty = fields.Nested(DifficultySchema, allow_none=True, load_default=None)
    reported_on = fields.Date(allow_none=True, load_default=None, validate=HISTORY)
    hukou_place = fields.String(allow_none=True, load_default=None, validate=DIVISION_CHECK)
    placement_place = fields.String(allow_none=True, load_default=None, validate=DIVISION_CHECK)
    # Who collected the card: the registering operator's id unless given.
    collected_by = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(min=1, max=50)
    )

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
        if data.get("reported_on") and data["reported_on"] > today:
            errors["reported_on"] = ["is in the future"]
        if (
            data.get("employment_status") == "employed"
            and "employer" in data
            and not data.get("employer")
        ):
            errors["employer"] = ["is required when employment_status is employed"]
        if "county_code" in data and "station_code" in data:
            errors.update(station_errors(data["county_code"], data["station_code"]))
        for name, messages in card_problems(data, card_rules.load()).items():
            errors.setdefault(name, messages)
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
