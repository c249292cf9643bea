"""Input checking at the edge: marshmallow errors become ``InvalidInput`` naming fields."""
import uuid

from marshmallow import ValidationError

from shared.errors import InvalidInput, flatten_errors


def load(schema, data, partial=False):
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise InvalidInput("invalid input", flatten_errors(exc.messages)) from None


def parse_uuid(value, field):
    try:
        return uuid.UUID(str(value)) if value is not None and len(str(value)) <= 64 else _bad(field)
    except ValueError:
        _bad(field)


def _bad(field):
    raise InvalidInput("invalid input", {field: ["not a valid id"]})
