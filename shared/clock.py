"""The one source of business "now" and "today": the bureau's clock, in the bureau's time
zone (``BUREAU_TIMEZONE``, default ``Asia/Shanghai``), never the machine's.

Services inject ``Clock`` (tests replace its ``clock`` with a ``FrozenClock``); the outbox
stamps events with the same clock (``shared.db`` hands it to the session); schemas check
date rules against the ``today`` they are loaded with (``shared.validation.load``); vetctl,
bench and tests call ``bureau_clock()``. An architecture test
(``tests/unit/test_wall_clock.py``) fails on any other read of the wall clock.

What keeps reading the operating system's clock, on purpose, because it is not a business
date and the bureau's zone does not change it:

- durations and deadlines: ``time.monotonic()`` (timeouts, waits, benchmarks);
- token expiry and issue time (``shared.auth``): JWT ``exp``/``iat`` are seconds since the
  epoch, the same in every zone;
- the bureau's HTTP signature skew (``shared.http``): epoch seconds as well;
- technical timestamps PostgreSQL writes itself with ``now()`` (outbox ``created_at`` and
  ``published_at``, inbox ``received_at``, migrations): ``timestamptz``, compared only with
  each other. SQL never asks the database for a date (``current_date`` depends on the
  session's ``TimeZone``): business dates are computed here and passed in.
"""

import datetime as dt
import os
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nameko.extensions import DependencyProvider

UTC = dt.UTC
DEFAULT_TIMEZONE = "Asia/Shanghai"  # county offices keep Beijing time


def zone(name=None):
    """The bureau's time zone: ``name``, else ``$BUREAU_TIMEZONE``, else Asia/Shanghai.
    An unknown name is a configuration error, said at once."""
    return _zone(name or os.environ.get("BUREAU_TIMEZONE") or DEFAULT_TIMEZONE)


@cache
def _zone(name):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"BUREAU_TIMEZONE={name!r} is not an IANA time zone (e.g. Asia/Shanghai, Asia/Urumqi)"
        ) from None


class SystemClock:
    """The real clock: the current instant, and the date it is in the bureau's zone."""

    def __init__(self, tz=None):
        self.tz = tz if isinstance(tz, dt.tzinfo) else zone(tz)

    def now(self):
        """An aware UTC datetime (what events and timestamps store)."""
        return dt.datetime.now(UTC)

    def local_now(self):
        """The same instant on the bureau's wall clock."""
        return self.now().astimezone(self.tz)

    def today(self):
        """The bureau's date: what "today" means for a due date, a deadline or a rule."""
        return self.local_now().date()


class FrozenClock(SystemClock):
    """A clock for tests: stands still until moved. A naive ``at`` is taken as UTC."""

    def __init__(self, at, tz=None):
        super().__init__(tz)
        self.at = at if at.tzinfo else at.replace(tzinfo=UTC)

    def now(self):
        return self.at.astimezone(UTC)

    def move(self, **delta):
        self.at += dt.timedelta(**delta)


def bureau_clock():
    """The bureau's clock for code outside a service (vetctl, bench, tests)."""
    return SystemClock()


def today():
    """The bureau's date now: ``bureau_clock().today()``."""
    return bureau_clock().today()


class Clock(DependencyProvider):
    """Injects the service's clock. Its zone comes from the service's config
    (``BUREAU_TIMEZONE``), else the environment."""

    def __init__(self, clock=None):
        self.clock = clock

    def setup(self):
        if self.clock is None:
            self.clock = SystemClock(self.container.config.get("BUREAU_TIMEZONE"))

    def get_dependency(self, worker_ctx):
        return self.clock
