"""Bounded work: an RPC of which at most ``limit`` calls run at once in a process
(``@bounded_rpc("BULK_CONCURRENCY", roles=...)``, the limit read from that config key).

A call beyond the limit waits for a slot in the green thread nameko gives each incoming
message: unacked, but holding no worker and no database connection, so the process's
other RPCs (``health()`` among them) keep the rest of ``max_workers``. Waiting calls still
count against the consumer's prefetch (``EXTRA_PREFETCH`` in ``shared.messaging``, which
must leave room for them). A call still waiting when the process stops goes back to the
queue instead of starting."""

import eventlet.semaphore
from nameko import rpc as nameko_rpc

from shared.messaging import Rpc


class Slots:
    """At most ``limit`` holders at once; the others wait in arrival order. Once closed,
    a waiter gets no slot (``enter`` returns False)."""

    def __init__(self, limit):
        if limit < 1:
            raise ValueError(f"a limit of at least 1 is needed, not {limit}")
        self.limit, self.closed = limit, False
        self._semaphore = eventlet.semaphore.Semaphore(limit)

    def enter(self):
        self._semaphore.acquire()
        if self.closed:
            self._semaphore.release()
            return False
        return True

    def leave(self):
        self._semaphore.release()

    def close(self):
        self.closed = True

    @property
    def busy(self):
        return self.limit - self._semaphore.balance


class _Admission(nameko_rpc.Rpc):
    """Waits for a slot after the token check (``shared.messaging.Rpc`` comes before this
    class in ``BoundedRpc``'s method order, so a refused call never waits) and before
    nameko spawns the worker."""

    def handle_message(self, body, message):
        if not self.slots.enter():
            self.rpc_consumer.requeue_message(message)
            return
        try:
            super().handle_message(body, message)
        except BaseException:  # a malformed call: no worker started, nothing to wait for
            self.slots.leave()
            raise
        # (A container being killed has nameko requeue the call instead: its slot stays
        # taken, and nothing runs in that container again.)


class BoundedRpc(Rpc, _Admission):
    def __init__(self, limit_key, default_limit, **kwargs):
        self.limit_key, self.default_limit = limit_key, default_limit
        super().__init__(**kwargs)

    def setup(self):
        super().setup()
        self.slots = Slots(int(self.container.config.get(self.limit_key) or self.default_limit))

    def stop(self):
        self.slots.close()
        super().stop()

    def handle_result(self, message, worker_ctx, result, exc_info):
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        finally:
            self.slots.leave()


bounded_rpc = BoundedRpc.decorator
