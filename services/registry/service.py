"""registry: the nameko service that keeps veterans' cards (一人一卡)."""
import uuid

import structlog

from services.registry import domain
from services.registry.schemas import (AuditQuerySchema, IdNumberSchema, RegisterVeteranSchema,
                                       RevealSchema)
from services.registry.store import RegistryStore
from shared.auth import ADMIN, READ, REVEAL, WRITE
from shared.db import Database
from shared.errors import Conflict, NotFound
from shared.messaging import rpc
from shared.service import ServiceBase
from shared.validation import load, parse_uuid

log = structlog.get_logger(__name__)
# Built once: a schema's construction costs more than a load (schemas keep no per-load state).
REGISTER_INPUT = RegisterVeteranSchema()
ID_NUMBER_INPUT = IdNumberSchema()
REVEAL_INPUT = RevealSchema()
AUDIT_INPUT = AuditQuerySchema()


class RegistryService(ServiceBase):
    name = "registry"
    store = Database(RegistryStore)

    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def register_veteran(self, data):
        command = load(REGISTER_INPUT, data)
        self.auth.require_county(command["county_code"])
        now = self.clock.now()
        veteran, events = domain.register(command, str(uuid.uuid4()), now)
        operator = self.auth.operator
        existing = self.store.add_veteran(veteran, created_by=operator.id)
        if existing:
            raise Conflict("a veteran with this ID number is already registered",
                           {"veteran_id": existing})
        self.store.audit(operator, "register_veteran", "veteran", veteran.id, now)
        self.store.emit(*events)
        log.info("veteran.registered", veteran_id=veteran.id, county_code=veteran.county_code,
                 flags=veteran.flags, operator_id=operator.id)
        return domain.present(veteran)

    @rpc(roles=READ)
    def get_veteran(self, veteran_id):
        return domain.present(self._veteran(veteran_id))

    @rpc(roles=READ, sensitive_arguments=("id_number",))
    def find_veteran_by_id_number(self, id_number):
        command = load(ID_NUMBER_INPUT, {"id_number": id_number})
        veteran = self.store.find_by_id_number(command["id_number"])
        if veteran is None:
            raise NotFound("no veteran with this ID number")
        self.auth.require_county(veteran.county_code)
        return domain.present(veteran)

    @rpc(roles=REVEAL)
    def reveal_id_number(self, veteran_id, reason):
        """The full ID number, for an operator in scope who says why; audited."""
        command = load(REVEAL_INPUT, {"reason": reason})
        veteran = self._veteran(veteran_id)
        self.store.audit(self.auth.operator, "reveal_id_number", "veteran", veteran.id,
                         self.clock.now(), reason=command["reason"])
        log.info("veteran.id_number_revealed", veteran_id=veteran.id,
                 operator_id=self.auth.operator.id)
        return {"veteran_id": veteran.id, "id_number": veteran.id_number}

    @rpc(roles=ADMIN)
    def audit(self, filters=None):
        """Reveals and changes by operator and time, newest first (admin only)."""
        query = load(AUDIT_INPUT, filters if filters is not None else {})
        size = query["page_size"]
        total, items = self.store.audit_entries(
            query["operator_id"], query["action"], query["since"], query["until"],
            limit=size, offset=(query["page"] - 1) * size)
        for item in items:
            item["at"] = item["at"].isoformat()
        return {"items": items, "total": total, "page": query["page"], "page_size": size}

    def _veteran(self, veteran_id):
        veteran = self.store.get_veteran(parse_uuid(veteran_id, "veteran_id"))
        if veteran is None:
            raise NotFound(f"no veteran {veteran_id}")
        self.auth.require_county(veteran.county_code)
        return veteran
