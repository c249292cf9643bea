"""registry: the nameko service that keeps the ledger: one card per veteran (一人一卡),
one booklet per enterprise (一企一册)."""

import uuid
from datetime import datetime

import structlog

from services.registry import card_rules, domain
from services.registry.bulk import BulkRpcs
from services.registry.enterprises import EnterpriseRpcs
from services.registry.reactions import Reactions, TimelineHandlers
from services.registry.reports import ReportRpcs
from services.registry.schemas import (
    AuditQuerySchema,
    IdNumberSchema,
    RegisterVeteranSchema,
    RevealSchema,
    UpdateVeteranSchema,
    station_errors,
)
from services.registry.search import SearchRpcs
from services.registry.store import RegistryStore
from shared.auth import ADMIN, READ, REVEAL, WRITE
from shared.contracts.summaries import summary
from shared.db import Database
from shared.errors import Conflict, NotFound
from shared.jurisdiction import Jurisdiction
from shared.messaging import rpc
from shared.service import ServiceBase
from shared.validation import invalid, load, parse_uuid

log = structlog.get_logger(__name__)
# Built once: a schema's construction costs more than a load (schemas keep no per-load state).
REGISTER_INPUT = RegisterVeteranSchema()
UPDATE_INPUT = UpdateVeteranSchema()
ID_NUMBER_INPUT = IdNumberSchema()
REVEAL_INPUT = RevealSchema()
AUDIT_INPUT = AuditQuerySchema()
# A clash with a card outside the caller's counties: registering must fail, but the reply
# names neither the card nor its county (docs/architecture.md, "Privacy: county scope").
REGISTERED_ELSEWHERE = "this ID number is already registered; ask the prefecture office"


class RegistryService(
    EnterpriseRpcs, SearchRpcs, ReportRpcs, BulkRpcs, Reactions, TimelineHandlers, ServiceBase
):
    name = "registry"
    store = Database(RegistryStore)

    @rpc(roles=WRITE, sensitive_arguments=("data",), stations=True)
    def register_veteran(self, data):
        command = load(REGISTER_INPUT, data, today=self.clock.today())
        self.auth.require_county(command["county_code"])
        self.auth.require_station(command["station_code"])
        now = self.clock.now()
        duplicates = self.store.possible_duplicates(
            command["name"],
            domain.identity(command["id_number"])[1],
            command["county_code"],
            command["phone"],
            counties=self.auth.scope(),
            stations=self.stations_in_scope(),
        )
        operator = self.auth.operator
        command["collected_by"] = command["collected_by"] or operator.id
        veteran, events = domain.register(
            command, str(uuid.uuid4()), now, duplicates, rules=card_rules.load()
        )
        existing = self.store.add_veteran(veteran, created_by=operator.id)
        if existing:
            holder, county, station = existing
            if not self.auth.may_see_card(county, station):  # name no card the caller may not see
                raise Conflict(REGISTERED_ELSEWHERE, {})
            raise Conflict(
                "a veteran with this ID number is already registered", {"veteran_id": holder}
            )
        self.store.audit(operator, "register_veteran", "veteran", veteran.id, now)
        self.emit_recorded(events)
        log.info(
            "veteran.registered",
            veteran_id=veteran.id,
            county_code=veteran.county_code,
            flags=veteran.flags,
            operator_id=operator.id,
        )
        return domain.present(veteran)

    @rpc(roles=WRITE, sensitive_arguments=("data",), stations=True)
    def update_veteran(self, veteran_id, data):
        """A partial update; each changed field is kept as history."""
        changes = load(UPDATE_INPUT, data, partial=True, today=self.clock.today())
        reason = changes.pop("status_reason", None)
        veteran = self._veteran(veteran_id, lock=True)
        if "county_code" in changes:  # moving a card needs the destination county too
            self.auth.require_county(changes["county_code"])
        if "county_code" in changes or "station_code" in changes:
            station = changes.get("station_code", veteran.station_code)
            wrong = station_errors(changes.get("county_code", veteran.county_code), station)
            if wrong:
                raise invalid(wrong)
            self.auth.require_station(station)
        if changes.get("employment_status") == "employed" and not (
            changes.get("employer") or veteran.employer
        ):
            raise invalid({"employer": ["is required when employment_status is employed"]})
        problems = domain.card_problems(
            domain.as_card(veteran, changes), card_rules.load(), changed=changes
        )
        if problems:  # a rule across fields, read with what the card already holds
            raise invalid(problems)
        updated = self.apply_changes(veteran, changes, reason=reason)
        return domain.present(updated)

    @rpc(roles=READ, stations=True)
    def get_veteran(self, veteran_id):
        """The card, phone and address in full; audited."""
        veteran = self._veteran(veteran_id)
        self._audit_read(veteran, "get_veteran")
        return domain.present(veteran, contact=True)

    @rpc(roles=READ, sensitive_arguments=("id_number",), stations=True)
    def find_veteran_by_id_number(self, id_number):
        command = load(ID_NUMBER_INPUT, {"id_number": id_number})
        veteran = self.store.find_by_id_number(command["id_number"])
        if veteran is None or not self.auth.may_see_card(veteran.county_code, veteran.station_code):
            raise NotFound("no veteran with this ID number")
        self._audit_read(veteran, "find_veteran_by_id_number")
        return domain.present(veteran, contact=True)

    @rpc(roles=READ, stations=True)
    def get_card(self, veteran_id):
        """一人一卡: the veteran (phone and address in full), their enterprises, counters
        and the timeline, newest first; audited."""
        veteran = self._veteran(veteran_id)
        self._audit_read(veteran, "get_card")
        counts = self.store.timeline_counts(veteran.id)
        return {
            "veteran": domain.present(veteran, contact=True),
            "enterprises": self.enterprises_of(veteran.id),
            "counters": {
                "applications": counts.get("application_submitted", 0),
                "hires": counts.get("veteran_hired", 0),
                "enrollments": counts.get("enrolled", 0),
                "certificates": len(veteran.certificates),
                "loans": counts.get("loan_applied", 0),
                "subsidies": counts.get("subsidy_granted", 0),
                "revisits": counts.get("revisit_completed", 0),
                "contacts": counts.get("contact_recorded", 0),
            },
            "history": domain.json_rows(self.store.history(veteran.id, limit=50)),
            "timeline": domain.json_rows(self.store.timeline(veteran_id=veteran.id)),
        }

    @rpc(roles=REVEAL, stations=True)
    def reveal_id_number(self, veteran_id, reason):
        """The full ID number, for an operator in scope who says why; audited."""
        veteran = self._reveal(veteran_id, reason, "reveal_id_number")
        log.info(
            "veteran.id_number_revealed", veteran_id=veteran.id, operator_id=self.auth.operator.id
        )
        return {"veteran_id": veteran.id, "id_number": veteran.id_number}

    @rpc(roles=REVEAL)
    def reveal_preferential_card(self, veteran_id, reason):
        """The full preferential card number (优待证号), for an operator in scope who says
        why; audited like ``reveal_id_number``."""
        veteran = self._reveal(veteran_id, reason, "reveal_preferential_card")
        log.info(
            "veteran.preferential_card_revealed",
            veteran_id=veteran.id,
            operator_id=self.auth.operator.id,
        )
        return {
            "veteran_id": veteran.id,
            "preferential_card_number": veteran.preferential_card_number,
        }

    def _reveal(self, veteran_id, reason, action):
        """The card whose identifier a reveal shows, once the reason is checked and the
        reveal audited (who, when, why) as ``action``."""
        command = load(REVEAL_INPUT, {"reason": reason})
        veteran = self._veteran(veteran_id)
        self.store.audit(
            self.auth.operator,
            action,
            "veteran",
            veteran.id,
            self.clock.now(),
            reason=command["reason"],
        )
        return veteran

    @rpc(roles=WRITE)
    def verify_veteran(self, veteran_id):
        """The calling operator has checked the card: it records who and when (audited,
        with the card's history)."""
        veteran = self._veteran(veteran_id, lock=True)
        changes = domain.verified(self.auth.operator.id, self.clock.now())
        updated = self.apply_changes(veteran, changes, reason="verified")
        self.store.audit(
            self.auth.operator, "verify_veteran", "veteran", veteran.id, self.clock.now()
        )
        return domain.present(updated)

    @rpc(roles=ADMIN)
    def audit(self, filters=None):
        """Reveals, changes, card reads and searches by operator, action and time, newest
        first (admin only)."""
        query = load(AUDIT_INPUT, filters if filters is not None else {})
        size = query["page_size"]
        total, items = self.store.audit_entries(
            query["operator_id"],
            query["action"],
            query["since"],
            query["until"],
            limit=size,
            offset=(query["page"] - 1) * size,
        )
        return {
            "items": domain.json_rows(items),
            "total": total,
            "page": query["page"],
            "page_size": size,
        }

    # -- shared by RPCs, reactions and the enterprise part --------------------------------
    def apply_changes(self, veteran, changes, reason=None, cause_event_id=None):
        """Change a card: history, audit, events through the outbox, timeline."""
        now = self.clock.now()
        updated, history, events = domain.update(
            veteran, changes, now, reason, cause_event_id, rules=card_rules.load()
        )
        if not history:
            return veteran
        operator = self.auth.operator
        self.store.save_changes(updated, history, operator.id, now, reason, cause_event_id)
        self.store.audit(operator, "update_veteran", "veteran", veteran.id, now, reason=reason)
        self.emit_recorded(events)
        log.info(
            "veteran.updated",
            veteran_id=veteran.id,
            fields=[c.field for c in history],
            operator_id=operator.id,
        )
        return updated

    def emit_recorded(self, events):
        """Emit registry's own events and put each on the timeline it concerns (one
        statement for all rows, however many events). Returns their envelopes."""
        rows = []
        envelopes = self.store.emit(*events)
        for envelope in envelopes:
            data, event_id = envelope["data"], envelope["event_id"]
            at = datetime.fromisoformat(envelope["occurred_at"])
            text = summary(self.name, envelope["type"], data)
            for veteran_id in data.get("founder_ids") or [data.get("veteran_id")]:
                if veteran_id:
                    rows.append((event_id, veteran_id, None, at, self.name, envelope["type"], text))
            if data.get("enterprise_id"):
                rows.append(
                    (event_id, None, data["enterprise_id"], at, self.name, envelope["type"], text)
                )
        self.store.add_timeline_rows(rows)
        return envelopes

    def enterprises_of(self, veteran_id):
        """Enterprises a veteran founded, in the operator's counties (see enterprises.py)."""
        return EnterpriseRpcs.enterprises_of(self, veteran_id)

    def stations_in_scope(self):
        """Every station code a station token covers (a township: its villages too), or
        None for an operator not limited to stations."""
        scope = self.auth.station_scope()
        return None if scope is None else Jurisdiction.load().covered(scope)

    def _audit_read(self, veteran, rpc_name):
        """A single card read shows the phone and address in full: one audit row says who
        read whose card, when and through which RPC."""
        self.store.audit(
            self.auth.operator,
            "read_card",
            "veteran",
            veteran.id,
            self.clock.now(),
            details={"rpc": rpc_name},
        )

    def _veteran(self, veteran_id, lock=False):
        veteran = self.store.get_veteran(parse_uuid(veteran_id, "veteran_id"), lock=lock)
        if veteran is None or not self.auth.may_see_card(veteran.county_code, veteran.station_code):
            raise NotFound(f"no veteran {veteran_id}")
        return veteran
