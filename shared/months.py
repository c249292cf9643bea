"""Monthly series for the statistics (``stats`` → ``by_month``): the bureau's last twelve
calendar months, each as ``"YYYY-MM"`` oldest first, and the counts a store groups by month
laid over them so that every month is present, zero when nothing happened in it.

A month is the bureau's (``shared.clock``): an instant belongs to the month its date has on
the bureau's wall clock (23:30 UTC on 31 January is 1 February in Asia/Shanghai). Stores
bucket timestamps with ``month_sql(column)`` and the zone's name, dates as they are (a
business date is already the bureau's). Pure functions: no I/O."""

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

MONTHS = 12


def label(day: dt.date) -> str:
    """``"YYYY-MM"`` of a date."""
    return f"{day.year:04d}-{day.month:02d}"


def month_of(instant: dt.datetime, tz: dt.tzinfo) -> str:
    """The bureau's month of an aware instant (a naive one is refused: it says no zone)."""
    if instant.tzinfo is None:
        raise ValueError("a naive datetime has no month: give it a time zone")
    return label(instant.astimezone(tz).date())


def last_months(today: dt.date, n: int = MONTHS) -> list[str]:
    """The ``n`` months ending with ``today``'s, oldest first."""
    year, month = today.year, today.month
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def first_day(month: str) -> dt.date:
    year, number = month.split("-")
    return dt.date(int(year), int(number), 1)


def next_first_day(month: str) -> dt.date:
    """The first day of the month after ``month`` (an exclusive end for dates)."""
    day = first_day(month)
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def ends(months: Iterable[str], tz: dt.tzinfo) -> list[dt.datetime]:
    """For each month, the instant it ends: midnight starting the next month on the
    bureau's wall clock, as an aware datetime (exclusive)."""
    return [dt.datetime.combine(next_first_day(m), dt.time(), tz) for m in months]


def start(month: str, tz: dt.tzinfo) -> dt.datetime:
    """The instant ``month`` begins: midnight of its first day on the bureau's wall clock."""
    return dt.datetime.combine(first_day(month), dt.time(), tz)


def span(months: list[str]) -> tuple[dt.date, dt.date]:
    """``(first day, first day after)`` of a run of months, oldest first: the dates a
    store's query covers."""
    return first_day(months[0]), next_first_day(months[-1])


def series(
    months: Iterable[str],
    rows: Mapping[str, Mapping[str, Any]],
    zeros: Mapping[str, Any],
) -> dict[str, dict[str, Any]]:
    """``{month: {key: value}}`` for every month of ``months`` in order: the store's row for
    the month where there is one, else ``zeros`` (what "nothing happened" reads as: 0 for
    a count, None for an average or a rate with nothing to average). Rows of months outside
    ``months`` are dropped."""
    return {
        month: {key: rows.get(month, {}).get(key, empty) for key, empty in zeros.items()}
        for month in months
    }


def month_sql(column: str) -> str:
    """SQL text bucketing a ``timestamptz`` column into the bureau's ``YYYY-MM``; the zone's
    name goes in as the parameter ``%(tz)s`` (the session's ``TimeZone`` is not trusted)."""
    return f"to_char({column} AT TIME ZONE %(tz)s, 'YYYY-MM')"


def zone_name(tz: dt.tzinfo) -> str:
    """The IANA name PostgreSQL needs for ``AT TIME ZONE`` (``ZoneInfo.key``)."""
    name = getattr(tz, "key", None)
    if not name:
        raise ValueError(f"{tz!r} has no IANA name")
    return name
