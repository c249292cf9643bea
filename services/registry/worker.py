"""What the RPC and event-handler mixins of ``RegistryService`` (enterprises, search, bulk,
reactions) use of the service they join: its dependencies as injected, and the methods
``service.py`` and ``shared.service.ServiceBase`` define. Annotations only: no value set
here can shadow the service's own along the MRO."""

from collections.abc import Callable, Iterable
from typing import Any

from services.registry.domain import Veteran
from services.registry.store import RegistryStore
from shared.auth import Auth
from shared.clock import Clock


class RegistryWorker:
    name: str
    store: RegistryStore
    # As ServiceBase declares them, the providers; a worker sees what they inject (a
    # shared.auth.Caller, a shared.clock.SystemClock), whose types nameko cannot tell mypy.
    auth: Auth
    clock: Clock
    # service.py: registry's own events through the outbox, onto the timelines they concern
    emit_recorded: Callable[[Iterable[Any]], list[dict[str, Any]]]
    # service.py: a change of a card (history, audit, events, timeline) → the new card
    apply_changes: Callable[..., Veteran]
    # service.py: every station a station token covers, or None for no limit
    stations_in_scope: Callable[[], list[str] | None]
    # search.py: station_code, county_code → (station_code, the stations it covers)
    station_stats_scope: Callable[[str | None, str | None], tuple[str | None, list[str] | None]]
    # ServiceBase: county_code → (county_code, counties or None for all, counties listed)
    stats_scope: Callable[[str | None], tuple[str | None, list[str] | None, list[str]]]
