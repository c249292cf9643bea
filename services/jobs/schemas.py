"""RPC and HTTP input schemas of jobs. Every code is checked against the taxonomy, every
county against the jurisdiction, every string and list has a limit. The bureau's HTTP
schemas are these too, so the OpenAPI document describes exactly what is accepted."""

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from services.jobs import domain, fair_domain
from shared.jurisdiction import county_validator
from shared.taxonomy import code_of
from shared.validation import FAIR, HISTORY, MOBILE, PLANNED, QueryInteger, check_uscc

MAX_SALARY = 1_000_000
MAX_OPENINGS = 10_000


def _codes(category, max_items=20, **kwargs):
    return fields.List(
        fields.String(validate=code_of(category)),
        load_default=list,
        validate=validate.Length(max=max_items),
        **kwargs,
    )


def _text(max_length, **kwargs):
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


def _flag(**kwargs):
    # Only real booleans: "yes", 1 or "false" are mistakes worth naming.
    return fields.Boolean(truthy={True}, falsy={False}, **kwargs)


class EmployerSchema(Schema):
    name = _text(100, required=True)
    uscc = fields.String(
        allow_none=True, load_default=None, validate=[validate.Length(max=32), check_uscc]
    )
    county_code = fields.String(required=True, validate=county_validator())
    industry = fields.String(required=True, validate=code_of("industries"))
    contact_name = _text(50, allow_none=True, load_default=None)
    contact_phone = fields.String(allow_none=True, load_default=None, validate=MOBILE)
    federation_member = _flag(load_default=False)

    @post_load
    def normalise(self, data, **kwargs):
        from stdnum.cn import uscc

        if data.get("uscc"):
            data["uscc"] = uscc.compact(data["uscc"])
        data["name"] = data["name"].strip()
        return data


class PostingFieldsSchema(Schema):
    """What a posting says, from a clerk or from the bureau."""

    title = _text(100, required=True)
    occupation = fields.String(required=True, validate=code_of("occupations"))
    skills_required = _codes("skills")
    certificates_preferred = fields.List(
        _text(100), load_default=list, validate=validate.Length(max=20)
    )
    county_code = fields.String(required=True, validate=county_validator())
    salary_min = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=MAX_SALARY)
    )
    salary_max = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=MAX_SALARY)
    )
    openings = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_OPENINGS)
    )
    closes_on = fields.Date(required=True, validate=PLANNED)
    dedicated = _flag(load_default=False)
    description = _text(2000, allow_none=True, load_default=None)

    @validates_schema
    def check_salary(self, data, **kwargs):
        low, high = data.get("salary_min"), data.get("salary_max")
        if low is not None and high is not None and high < low:
            raise ValidationError({"salary_max": ["is below salary_min"]})


class PostJobSchema(PostingFieldsSchema):
    employer_id = fields.UUID(required=True)
    source = fields.String(load_default="local", validate=validate.OneOf(("local", "fair")))


class BureauEmployerSchema(Schema):
    """The bureau names the employer by its credit code; jobs registers it if new."""

    uscc = fields.String(required=True, validate=[validate.Length(max=32), check_uscc])
    name = _text(100, required=True)
    county_code = fields.String(required=True, validate=county_validator())
    industry = fields.String(load_default="other", validate=code_of("industries"))


class BureauPostingSchema(PostingFieldsSchema):
    bureau_posting_id = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=64),
            validate.Regexp(r"^[A-Za-z0-9._:-]+$", error="letters, digits and . _ : - only"),
        ],
    )
    version = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=2**63 - 1),
        metadata={
            "description": (
                "the bureau's version of this posting, greater with every change it makes (a "
                "revision number, or its last change in unix milliseconds): an item whose "
                "version is not greater than the one stored changes nothing and is answered "
                "stale (the same version with the same fields: unchanged)"
            )
        },
    )
    employer = fields.Nested(BureauEmployerSchema, required=True)


class SearchJobsSchema(Schema):
    county_code = fields.String(load_default=None, validate=county_validator())
    occupation = fields.String(load_default=None, validate=code_of("occupations"))
    skill = fields.String(load_default=None, validate=code_of("skills"))
    employer_id = fields.UUID(load_default=None)
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "closed", "any")))
    dedicated = _flag(load_default=None, allow_none=True)
    source = fields.String(load_default=None, validate=validate.OneOf(domain.SOURCES))
    min_salary = fields.Integer(
        strict=True, load_default=None, validate=validate.Range(min=0, max=MAX_SALARY)
    )
    title = _text(100, load_default=None)


class CloseJobSchema(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(domain.CLOSE_REASONS_BY_CLERK))


class FairSchema(Schema):
    title = _text(100, required=True)
    county_code = fields.String(required=True, validate=county_validator())
    starts_at = fields.AwareDateTime(required=True, validate=FAIR)
    mode = fields.String(required=True, validate=validate.OneOf(fair_domain.FAIR_MODES))
    stream_url = fields.Url(
        allow_none=True,
        load_default=None,
        schemes={"http", "https"},
        validate=validate.Length(max=500),
    )
    venue = _text(200, allow_none=True, load_default=None)
    employer_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=200))
    posting_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=500))

    @validates_schema
    def check_mode(self, data, **kwargs):
        errors = {}
        if data.get("mode") in ("online_live", "hybrid") and not data.get("stream_url"):
            errors["stream_url"] = [f"is required for a {data['mode']} fair"]
        if data.get("mode") in ("offline", "hybrid") and not data.get("venue"):
            errors["venue"] = [
                f"is required for an {data['mode']} fair"
                if data["mode"] == "offline"
                else "is required for a hybrid fair"
            ]
        if errors:
            raise ValidationError(errors)


class ApplySchema(Schema):
    veteran_id = fields.UUID(required=True)
    posting_id = fields.UUID(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(domain.CHANNELS))
    fair_id = fields.UUID(allow_none=True, load_default=None)

    @validates_schema
    def check_fair(self, data, **kwargs):
        if data.get("channel") == "fair" and not data.get("fair_id"):
            raise ValidationError({"fair_id": ["is required when channel is fair"]})
        if data.get("channel") != "fair" and data.get("fair_id"):
            raise ValidationError({"fair_id": ["is only for channel fair"]})


class AdvanceSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(domain.ADVANCE_TO))
    note = _text(500, allow_none=True, load_default=None)


class HireSchema(Schema):
    started_on = fields.Date(required=True, validate=HISTORY)
    salary = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_SALARY)
    )
    note = _text(500, allow_none=True, load_default=None)
    # The terms an employer's tax relief turns on (loans reads them from veteran_hired):
    # the labour contract's months (None: not stated; 0 or fewer refused), whether social
    # insurance is paid and from when (None: from the start).
    contract_months = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1, max=600)
    )
    social_insurance = fields.Boolean(load_default=False, truthy={True}, falsy={False})
    insured_from = fields.Date(allow_none=True, load_default=None, validate=HISTORY)

    @validates_schema
    def insured_from_the_start_or_later(self, data, **kwargs):
        insured_from = data.get("insured_from")
        if insured_from is None:
            return
        if not data.get("social_insurance"):
            raise ValidationError("only with social_insurance: true", "insured_from")
        if data.get("started_on") and insured_from < data["started_on"]:
            raise ValidationError("must be on or after started_on", "insured_from")


class MatchLimitSchema(Schema):
    limit = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=100))


class PlacementsQuerySchema(Schema):
    since = QueryInteger(load_default=0, validate=validate.Range(min=0, max=2**62))
    limit = QueryInteger(load_default=100, validate=validate.Range(min=1, max=500))


# -- the bureau's HTTP endpoints: batch envelope and replies (services/jobs/bureau.py) -----
MAX_ITEMS = 500
ITEM_STATUSES = ("created", "updated", "unchanged", "stale", "invalid")


class BatchSchema(Schema):
    """The envelope only: each item is loaded on its own, so that a bad one (even one
    that is not an object) is reported without blocking the others."""

    postings = fields.List(
        fields.Raw(allow_none=True),
        required=True,
        validate=validate.Length(
            min=1, max=MAX_ITEMS, error=f"a batch holds 1 to {MAX_ITEMS} postings"
        ),
    )


class BatchDocSchema(Schema):
    """The envelope as the document shows it: what a valid batch looks like."""

    postings = fields.List(
        fields.Nested(BureauPostingSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_ITEMS),
    )


class ItemResultSchema(Schema):
    index = fields.Integer(required=True)
    bureau_posting_id = fields.String(required=True, allow_none=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(ITEM_STATUSES),
        metadata={
            "description": "created; updated; unchanged; stale (a version not greater than the "
            "stored one: nothing changed, errors.version says which is stored); "
            "invalid (nothing changed, errors holds the field messages)"
        },
    )
    posting_id = fields.UUID(required=True, allow_none=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)


class BatchResultSchema(Schema):
    results = fields.List(fields.Nested(ItemResultSchema), required=True)


class PlacementSchema(Schema):
    cursor = fields.Integer(required=True)
    application_id = fields.UUID(required=True)
    veteran_id = fields.UUID(required=True)
    posting_id = fields.UUID(required=True)
    bureau_posting_id = fields.String(required=True, allow_none=True)
    employer_uscc = fields.String(required=True, allow_none=True)
    employer_name = fields.String(required=True)
    county_code = fields.String(required=True)
    started_on = fields.Date(required=True)
    salary = fields.Integer(required=True)
    channel = fields.String(required=True)
    dedicated = fields.Boolean(required=True)


class PlacementsSchema(Schema):
    items = fields.List(fields.Nested(PlacementSchema), required=True)
    next_cursor = fields.Integer(required=True)


class ErrorSchema(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)


BATCH_INPUT = BatchSchema()
BATCH_OUTPUT = BatchResultSchema()
PLACEMENTS_OUTPUT = PlacementsSchema()


EMPLOYER_INPUT = EmployerSchema()
POST_INPUT = PostJobSchema()
BUREAU_POSTING_INPUT = BureauPostingSchema()
SEARCH_INPUT = SearchJobsSchema()
CLOSE_INPUT = CloseJobSchema()
FAIR_INPUT = FairSchema()
APPLY_INPUT = ApplySchema()
ADVANCE_INPUT = AdvanceSchema()
HIRE_INPUT = HireSchema()
LIMIT_INPUT = MatchLimitSchema()
PLACEMENTS_INPUT = PlacementsQuerySchema()
