"""What every service has: a correlation id per worker, the caller's identity, the outbox
relay, the clock, and ``health()``. A service subclasses it and adds its ``store``."""

from typing import Any

from marshmallow import Schema, fields

from shared.auth import Auth
from shared.clock import Clock
from shared.jurisdiction import Jurisdiction, county_validator
from shared.logging import RequestContext
from shared.messaging import rpc
from shared.probes import Probes
from shared.relay import OutboxRelay
from shared.validation import load


class StatsSchema(Schema):
    county_code = fields.String(allow_none=True, load_default=None, validate=county_validator())


STATS_INPUT = StatsSchema()


class ServiceBase:
    # what every service class gives: its nameko name and its Database(store) provider
    name: str
    store: Any
    context = RequestContext()
    auth = Auth()
    relay = OutboxRelay()
    clock = Clock()
    probes = Probes()  # /healthz and /readyz of this process (HEALTH_ADDRESS)

    @rpc(public=True)
    def health(self):
        # ``today`` is the bureau's day as this service sees it: vetctl dates what it
        # sends by it rather than by the operator machine's calendar.
        return {
            "service": self.name,
            "status": "ok",
            "today": self.clock.today().isoformat(),
            "time_zone": str(self.clock.tz),
            **self.store.outbox_backlog(),
            **self.relay.status(),
            **self.health_details(),
        }

    def health_details(self):
        return {}

    def stats_scope(self, county_code):
        """What a ``stats(county_code=None)`` covers: the county asked for (one of the
        caller's, else ``Forbidden``) or every county the caller sees. → ``(county_code,
        counties or None for all, the codes listed in the reply)``."""
        county_code = load(STATS_INPUT, {"county_code": county_code})["county_code"]
        if county_code is not None:
            self.auth.require_county(county_code)
            counties = [county_code]
        else:
            counties = self.auth.scope()
        listed = Jurisdiction.load().codes() if counties is None else sorted(counties)
        return county_code, counties, listed
