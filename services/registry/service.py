"""registry: the nameko service that keeps veterans' cards (一人一卡)."""
import uuid

import structlog

from services.registry import domain
from services.registry.schemas import IdNumberSchema, RegisterVeteranSchema
from services.registry.store import RegistryStore
from shared.clock import Clock
from shared.db import Database
from shared.errors import Conflict, NotFound
from shared.logging import RequestContext
from shared.messaging import rpc
from shared.relay import OutboxRelay
from shared.validation import load, parse_uuid

log = structlog.get_logger(__name__)
# Built once: a schema's construction costs more than a load (schemas keep no per-load state).
REGISTER_VETERAN = RegisterVeteranSchema()
ID_NUMBER = IdNumberSchema()


class RegistryService:
    name = "registry"

    context = RequestContext()
    store = Database(RegistryStore)
    relay = OutboxRelay()
    clock = Clock()

    @rpc(sensitive_arguments=("data",))
    def register_veteran(self, data):
        command = load(REGISTER_VETERAN, data)
        veteran, events = domain.register(command, str(uuid.uuid4()), self.clock.now())
        existing = self.store.add_veteran(veteran)
        if existing:
            raise Conflict("a veteran with this ID number is already registered",
                           {"veteran_id": existing})
        self.store.emit(*events)
        log.info("veteran.registered", veteran_id=veteran.id, county_code=veteran.county_code,
                 flags=veteran.flags)
        return domain.present(veteran)

    @rpc
    def get_veteran(self, veteran_id):
        veteran = self.store.get_veteran(parse_uuid(veteran_id, "veteran_id"))
        if veteran is None:
            raise NotFound(f"no veteran {veteran_id}")
        return domain.present(veteran)

    @rpc(sensitive_arguments=("id_number",))
    def find_veteran_by_id_number(self, id_number):
        command = load(ID_NUMBER, {"id_number": id_number})
        veteran = self.store.find_by_id_number(command["id_number"])
        if veteran is None:
            raise NotFound("no veteran with this ID number")
        return domain.present(veteran)

    @rpc
    def health(self):
        return {"service": self.name, "status": "ok", **self.store.outbox_backlog(),
                **self.relay.status()}
