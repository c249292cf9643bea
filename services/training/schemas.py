"""RPC input schemas of training: codes from the taxonomy, counties from the jurisdiction,
limits on every string, list and number."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.jurisdiction import county_validator
from shared.taxonomy import Code, code_of
from shared.validation import PLANNED

BASE_KINDS = ("training", "incubation")
MODES = ("online", "offline", "hybrid")


def _text(max_length, **kwargs):
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


def _count(low, high, **kwargs):
    return fields.Integer(strict=True, validate=validate.Range(min=low, max=high), **kwargs)


class BaseSchema(Schema):
    name = _text(100, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(BASE_KINDS))
    county_code = fields.String(required=True, validate=county_validator())
    capacity = _count(1, 100_000, required=True)
    operator = _text(100, allow_none=True, load_default=None)


class CourseSchema(Schema):
    title = _text(100, required=True)
    occupation = Code("occupations", required=True)  # ours, or its 职业分类大典 code
    certificate_name = _text(100, required=True)
    skills_granted = fields.List(
        fields.String(validate=code_of("skills")),
        required=True,
        validate=validate.Length(min=1, max=10),
    )
    theory_hours = _count(0, 2000, required=True)
    practical_hours = _count(0, 2000, required=True)
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    base_id = fields.UUID(required=True)
    theory_pass = _count(0, 100, load_default=60)
    practical_pass = _count(0, 100, load_default=60)
    # the certificate's 职业技能等级 (五级 … 一级), when the course leads to one
    skill_level = fields.String(allow_none=True, load_default=None, validate=code_of("skill_level"))

    @validates_schema
    def some_hours(self, data, **kwargs):
        if data.get("theory_hours") == 0 and data.get("practical_hours") == 0:
            raise ValidationError({"theory_hours": ["a course has some hours"]})


class CohortSchema(Schema):
    starts_on = fields.Date(required=True, validate=PLANNED)
    ends_on = fields.Date(required=True, validate=PLANNED)
    capacity = _count(1, 10_000, required=True)

    @validates_schema
    def dates(self, data, **kwargs):
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError({"ends_on": ["is before starts_on"]})


class ResultSchema(Schema):
    theory_score = _count(0, 100, required=True)
    practical_score = _count(0, 100, required=True)


class MentorSchema(Schema):
    name = _text(50, required=True)
    field = _text(100, required=True)
    county_code = fields.String(required=True, validate=county_validator())


class CompetitionSchema(Schema):
    year = _count(2000, 2100, required=True)
    title = _text(100, required=True)
    groups = fields.List(_text(50), required=True, validate=validate.Length(min=1, max=10))
    county_code = fields.String(allow_none=True, load_default=None, validate=county_validator())


class EntrySchema(Schema):
    veteran_id = fields.UUID(required=True)
    project = _text(200, required=True)
    group = _text(50, required=True)


class AwardSchema(Schema):
    prize = _text(50, required=True)
    rank = _count(1, 1000, required=True)


BASE_INPUT = BaseSchema()
COURSE_INPUT = CourseSchema()
COHORT_INPUT = CohortSchema()
RESULT_INPUT = ResultSchema()
MENTOR_INPUT = MentorSchema()
COMPETITION_INPUT = CompetitionSchema()
ENTRY_INPUT = EntrySchema()
AWARD_INPUT = AwardSchema()
