"""Input checking at the edge: marshmallow errors become ``InvalidInput`` naming fields."""
import uuid

from marshmallow import Schema, ValidationError, fields, validate
from marshmallow.experimental.context import Context
from stdnum.cn import uscc as uscc_number
from stdnum.exceptions import ValidationError as StdnumError

from shared import clock
from shared.errors import InvalidInput, flatten_errors
from shared.logging import mask_text

MOBILE = validate.Regexp(r"^1[3-9]\d{9}$", error="not a mainland mobile number (11 digits, 1[3-9]…)")


def check_uscc(value):
    """GB 32100-2015 via python-stdnum: 18 characters, valid alphabet and check character."""
    try:
        uscc_number.validate(value)
    except StdnumError as exc:
        raise ValidationError(f"not a valid unified social credit code: {exc.message}") from None


def load(schema, data, partial=False, today=None):
    """``schema.load(data)`` or ``InvalidInput``. ``today`` is the day date rules check
    against (``loading_day()``): pass the service clock's ``today()``."""
    unstorable = unstorable_strings(data)
    if unstorable:
        raise invalid({path: ["contains a character that cannot be stored (NUL or a lone "
                              "surrogate)"] for path in unstorable})
    try:
        with checking_on(today):
            return schema.load(data, partial=partial)
    except ValidationError as exc:
        raise invalid(flatten_errors(exc.messages)) from None


def checking_on(today):
    """Schemas loaded inside ``with checking_on(day):`` check date rules against ``day``."""
    return Context({"today": today})


def loading_day():
    """For a schema's date rules: the ``today`` the current ``load`` was given, else the
    bureau's date now. Evaluated at load time, so a process that runs over midnight or New
    Year never checks against a stale day."""
    given = Context.get(default={}).get("today")
    return given if given is not None else clock.today()


def invalid(errors):
    """``InvalidInput`` for ``{field: [messages]}``, its message naming every field."""
    return InvalidInput(describe(errors), errors)


class PageSchema(Schema):
    page = fields.Integer(strict=True, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(strict=True, validate=validate.Range(min=1, max=200))


PAGE_INPUT = PageSchema()


def load_page(page, page_size):
    """(page, page_size) checked: InvalidInput naming either."""
    paging = load(PAGE_INPUT, {"page": page, "page_size": page_size})
    return paging["page"], paging["page_size"]


def unstorable_strings(data, path=""):
    """Dotted paths of strings PostgreSQL cannot hold (NUL) or UTF-8 cannot encode."""
    if isinstance(data, str):
        if "\x00" in data:
            return [path or "_schema"]
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return [path or "_schema"]
        return []
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, (list, tuple)):
        items = enumerate(data)
    else:
        return []
    found = []
    for key, value in items:
        found += unstorable_strings(value, f"{path}.{key}" if path else str(key))
    return found


def describe(errors):
    """A one-line summary naming every bad field, for clients that show only a message."""
    return "invalid input: " + "; ".join(f"{_field_name(field)}: {' '.join(messages)}"
                                         for field, messages in sorted(errors.items()))


def _field_name(field):
    """A field as the message names it: an unknown one is the caller's own text (any key
    of the payload), so at most 40 characters and masked."""
    return mask_text(str(field))[:40]


def parse_uuid(value, field):
    try:
        return uuid.UUID(str(value)) if value is not None and len(str(value)) <= 64 else _bad(field)
    except ValueError:
        _bad(field)


def _bad(field):
    raise invalid({field: ["not a valid id"]})
