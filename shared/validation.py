"""Input checking at the edge: marshmallow errors become ``InvalidInput`` naming fields."""

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from marshmallow.experimental.context import Context
from stdnum.cn import uscc as uscc_number
from stdnum.exceptions import ValidationError as StdnumError

from shared import clock
from shared.errors import flatten_errors, invalid

# ASCII digits only, the whole string: ``\d`` would take full-width or Arabic-Indic digits
# and ``$`` a trailing newline, each a second spelling of a number the duplicate check misses.
MOBILE_NUMBER = re.compile(r"1[3-9][0-9]{9}")
EARLIEST = dt.date(1950, 1, 1)  # no business date of this bureau's is older


def MOBILE(value):
    """A mainland mobile number as stored: 11 ASCII digits ``1[3-9]…``, nothing else (no
    ``+86``, spaces, dashes or newline)."""
    if not isinstance(value, str) or not MOBILE_NUMBER.fullmatch(value):
        raise ValidationError(
            "not a mainland mobile number (11 digits 0-9, 1[3-9]…, without +86, spaces or dashes)"
        )


def add_years(day, years):
    """``day`` moved by whole ``years`` (29 February to the 28th in other years)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def within_years(future, past=None):
    """A validator for a date or a datetime (by the calendar date it is written with): not
    later than ``future`` years after the ``today`` of the load (``loading_day()``), not
    earlier than ``past`` years before it, or than ``EARLIEST`` when ``past`` is None. A
    date outside is refused naming both bounds (never the value): a year 9999 cannot be
    stored and read back, and no bureau business is planned decades ahead."""

    def check(value):
        day = value.date() if isinstance(value, dt.datetime) else value
        today = loading_day()
        low = EARLIEST if past is None else max(EARLIEST, add_years(today, -past))
        high = add_years(today, future)
        if not low <= day <= high:
            raise ValidationError(f"must be between {low.isoformat()} and {high.isoformat()}")

    return check


# The windows the services' date inputs use (their own rules, e.g. "discharge not in the
# future", "a cohort does not start in the past", come on top):
HISTORY = within_years(future=1)  # what happened: service, discharge, founding, hire,
#                                           disbursement, payment, contact, consent
PLANNED = within_years(future=5, past=1)  # postings' closing dates, cohorts
FAIR = within_years(future=2, past=1)  # recruitment fairs
QUERY = within_years(future=5)  # filters: due_before, as_of, audit since/until


def check_uscc(value):
    """GB 32100-2015 via python-stdnum: 18 characters, valid alphabet and check character."""
    try:
        uscc_number.validate(value)
    except StdnumError as exc:
        raise ValidationError(f"not a valid unified social credit code: {exc}") from None


def load(schema, data, partial=False, today=None):
    """``schema.load(data)`` or ``InvalidInput``. ``today`` is the day date rules check
    against (``loading_day()``): pass the service clock's ``today()``."""
    unstorable = unstorable_strings(data)
    if unstorable:
        raise invalid(
            {
                path: ["contains a character that cannot be stored (NUL or a lone surrogate)"]
                for path in unstorable
            }
        )
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
    given = Context.get(default={"today": None}).get("today")
    return given if given is not None else clock.today()


class QueryInteger(fields.Integer):
    """A whole number from a URL query (a string of 1 to 19 ASCII digits) or from JSON (an
    int, not a bool or a float): never ``" 12"``, ``"1_000"``, ``"１２"`` or ``"1.5"``."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            if not re.fullmatch(r"[0-9]{1,19}", value):
                raise self.make_error("invalid")
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


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
    items: Iterable[tuple[Any, Any]]
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


def parse_uuid(value, field):
    try:
        return uuid.UUID(str(value)) if value is not None and len(str(value)) <= 64 else _bad(field)
    except ValueError:
        _bad(field)


def _bad(field):
    raise invalid({field: ["not a valid id"]})
