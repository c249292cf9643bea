"""Input checking at the edge: marshmallow errors become ``InvalidInput`` naming fields."""
import uuid

from marshmallow import ValidationError

from shared.errors import InvalidInput, flatten_errors


def load(schema, data, partial=False):
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        errors = flatten_errors(exc.messages)
        raise InvalidInput(describe(errors), errors) from None


def describe(errors):
    """A one-line summary naming every bad field, for clients that show only a message."""
    return "invalid input: " + "; ".join(f"{field}: {' '.join(messages)}"
                                         for field, messages in sorted(errors.items()))


def parse_uuid(value, field):
    try:
        return uuid.UUID(str(value)) if value is not None and len(str(value)) <= 64 else _bad(field)
    except ValueError:
        _bad(field)


def _bad(field):
    errors = {field: ["not a valid id"]}
    raise InvalidInput(describe(errors), errors)
