"""What every service has: a correlation id per worker, the caller's identity, the outbox
relay, the clock, and ``health()``. A service subclasses it and adds its ``store``."""
from shared.auth import Auth
from shared.clock import Clock
from shared.logging import RequestContext
from shared.messaging import rpc
from shared.relay import OutboxRelay


class ServiceBase:
    context = RequestContext()
    auth = Auth()
    relay = OutboxRelay()
    clock = Clock()

    @rpc(public=True)
    def health(self):
        return {"service": self.name, "status": "ok", **self.store.outbox_backlog(),
                **self.relay.status(), **self.health_details()}

    def health_details(self):
        return {}
