"""The durable scheduler's nameko parts: its settings (batch, lease, this instance's name)
and the timer that drives it. The SQL is in ``store.py``, the tick in ``service.py``."""

import os
import socket
import uuid
from dataclasses import dataclass

from eventlet import Timeout
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from shared.db import finish_unit_of_work

DEFAULT_INTERVAL = 5.0  # seconds between ticks when there is no backlog
DEFAULT_BATCH = 1000  # revisits claimed (and announced) per tick
DEFAULT_LEASE = 60.0  # seconds a claim holds if its instance dies before finishing


@dataclass(frozen=True)
class Settings:
    batch: int
    lease_seconds: float
    instance: str  # who holds a lease: one name per running container


class SchedulerSettings(DependencyProvider):
    def setup(self):
        config = self.container.config
        self.settings = Settings(
            batch=int(config.get("SCHEDULER_BATCH") or DEFAULT_BATCH),
            lease_seconds=float(config.get("SCHEDULER_LEASE_SECONDS") or DEFAULT_LEASE),
            instance=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
        )

    def get_dependency(self, worker_ctx):
        return self.settings


class SchedulerTimer(Timer):
    """nameko's ``timer`` with three changes:

    - the interval is config (``SCHEDULER_INTERVAL``), not fixed at import;
    - a tick that came back with a full batch (its result ≥ ``SCHEDULER_BATCH``) is
      followed at once by the next, so a backlog drains back to back rather than one
      batch per interval;
    - the tick's transaction is committed before the next tick starts (nameko would run
      the next tick first and commit in ``worker_result`` afterwards)."""

    def __init__(self, **kwargs):
        super().__init__(interval=None, **kwargs)
        self.full = False

    def setup(self):
        config = self.container.config
        self.interval = float(config.get("SCHEDULER_INTERVAL") or DEFAULT_INTERVAL)
        self.batch = int(config.get("SCHEDULER_BATCH") or DEFAULT_BATCH)

    def _run(self):
        while True:
            # Timeout(0) still yields to the hub, so a draining instance never starves
            # the RPCs and handlers of its own container.
            with Timeout(0 if self.full else self.interval, exception=False):
                self.should_stop.wait()
                break
            self.full = False
            self.handle_timer_tick()
            self.worker_complete.wait()
            self.worker_complete.reset()

    def handle_result(self, worker_ctx, result, exc_info):
        exc_info = finish_unit_of_work(self.container, worker_ctx, exc_info)
        self.full = exc_info is None and isinstance(result, int) and result >= self.batch
        self.worker_complete.send()
        return result, exc_info


scheduler_timer = SchedulerTimer.decorator
