"""RPC input schemas of followup."""

from marshmallow import Schema, fields, validate

from services.followup.domain import CATEGORIES, CHANNELS, OUTCOMES, TOPICS
from shared.jurisdiction import county_validator
from shared.validation import HISTORY, QUERY


class ProblemSchema(Schema):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    description = fields.String(required=True, validate=validate.Length(min=1, max=1000))


def _score():
    return fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1, max=5)
    )


class CompleteSchema(Schema):
    contacted_on = fields.Date(required=True, validate=HISTORY)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    veteran_satisfaction = _score()
    employer_rating = _score()
    problems = fields.List(
        fields.Nested(ProblemSchema), load_default=list, validate=validate.Length(max=20)
    )


class ResolveSchema(Schema):
    resolution = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ContactSchema(Schema):
    veteran_id = fields.UUID(allow_none=True, load_default=None)
    county_code = fields.String(allow_none=True, load_default=None, validate=county_validator())
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    topic = fields.String(required=True, validate=validate.OneOf(TOPICS))
    notes = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000))


class RevisitFilters(Schema):
    veteran_id = fields.UUID(load_default=None)
    status = fields.String(
        load_default=None, validate=validate.OneOf(["scheduled", "due", "overdue", "done"])
    )
    county_code = fields.String(load_default=None, validate=county_validator())
    due_before = fields.Date(load_default=None, validate=QUERY)


class WorklistSchema(Schema):
    county_code = fields.String(required=True, validate=county_validator())
    as_of = fields.Date(allow_none=True, load_default=None, validate=QUERY)


COMPLETE_INPUT = CompleteSchema()
RESOLVE_INPUT = ResolveSchema()
CONTACT_INPUT = ContactSchema()
FILTERS_INPUT = RevisitFilters()
WORKLIST_INPUT = WorklistSchema()
