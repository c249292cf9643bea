"""Field helpers shared by the per-source contract modules."""

from marshmallow import EXCLUDE, Schema, fields, validate

ID = fields.String(required=True, validate=validate.Length(min=1, max=64))


class EventData(Schema):
    # Producers may add fields; a consumer on an older contract ignores them.
    class Meta:
        unknown = EXCLUDE


def codes(**kwargs):
    return fields.List(fields.String(validate=validate.Length(max=64)), **kwargs)
