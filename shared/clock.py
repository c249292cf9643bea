"""The one source of "now". Services inject ``Clock``; tests replace it to move time."""
import datetime as dt

from nameko.extensions import DependencyProvider

UTC = dt.timezone.utc
# County offices work on Beijing time: "today" for a due date is Beijing's today.
LOCAL_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


class SystemClock:
    def now(self):
        return dt.datetime.now(UTC)

    def today(self):
        return self.now().astimezone(LOCAL_TZ).date()


class FrozenClock(SystemClock):
    """A clock for tests: stands still until moved."""

    def __init__(self, at):
        self.at = at if at.tzinfo else at.replace(tzinfo=UTC)

    def now(self):
        return self.at

    def move(self, **delta):
        self.at += dt.timedelta(**delta)


class Clock(DependencyProvider):
    def __init__(self, clock=None):
        self.clock = clock or SystemClock()

    def get_dependency(self, worker_ctx):
        return self.clock
