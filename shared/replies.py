"""Rows as replies: JSON-friendly values for what nameko serialises."""

import datetime as dt
import uuid


def _value(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [_value(item) for item in value]
    return value


def plain(row, drop=("created_by",)):
    """A row (dict) with dates as ISO strings and ids as strings, without ``drop`` keys
    (who wrote a row is for the audit, not for every reply)."""
    return {key: _value(value) for key, value in dict(row).items() if key not in drop}
