"""Enterprises' booklets (一企一册): their input schemas and RPCs, a mixin of
RegistryService. An enterprise or individual business (个体工商户) is founded by registered
veterans, who become self-employed when it registers."""

import uuid

import structlog
from marshmallow import Schema, fields, post_load, validate
from stdnum.cn import uscc as uscc_number

from services.registry import enterprise_domain as domain
from services.registry.domain import json_rows
from services.registry.worker import RegistryWorker
from shared.auth import READ, WRITE
from shared.errors import Conflict, NotFound
from shared.jurisdiction import county_validator
from shared.messaging import rpc
from shared.taxonomy import code_of
from shared.validation import HISTORY, check_uscc, invalid, load, load_page, parse_uuid

log = structlog.get_logger(__name__)
MAX_FOUNDERS = 20
MAX_EMPLOYEES = 1_000_000


def _headcount():
    return fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=0, max=MAX_EMPLOYEES),
    )


class RegisterEnterpriseSchema(Schema):
    kind = fields.String(required=True, validate=code_of("enterprise_kind"))
    uscc = fields.String(
        allow_none=True, load_default=None, validate=[validate.Length(max=32), check_uscc]
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    county_code = fields.String(required=True, validate=county_validator())
    industry = fields.String(required=True, validate=code_of("industries"))
    founded_on = fields.Date(required=True, validate=HISTORY)
    stage = fields.String(required=True, validate=code_of("enterprise_stage"))
    founder_ids = fields.List(
        fields.UUID(), required=True, validate=validate.Length(min=1, max=MAX_FOUNDERS)
    )
    employees = _headcount()
    veteran_employees = _headcount()
    new_hires = _headcount()  # hired in the past 12 months on contracts of a year or more
    federation_member = fields.Boolean(load_default=False, truthy={True}, falsy={False})
    incubation_base = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(max=200)
    )

    @post_load
    def normalise(self, data, **kwargs):
        if data.get("uscc"):
            data["uscc"] = uscc_number.compact(data["uscc"])
        if data.get("name"):
            data["name"] = data["name"].strip()
        return data


class UpdateEnterpriseSchema(RegisterEnterpriseSchema):
    """A partial update: any field; ``founder_ids`` replaces the set of founders."""


class SearchEnterprisesSchema(Schema):
    county_code = fields.String(load_default=None, validate=county_validator())
    kind = fields.String(load_default=None, validate=code_of("enterprise_kind"))
    stage = fields.String(load_default=None, validate=code_of("enterprise_stage"))
    industry = fields.String(load_default=None, validate=code_of("industries"))
    federation_member = fields.Boolean(load_default=None, truthy={True}, falsy={False})
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    founder_id = fields.UUID(load_default=None)


USCC_REGISTERED_ELSEWHERE = (
    "this unified social credit code is already registered; ask the prefecture office"
)
REGISTER_INPUT = RegisterEnterpriseSchema()
UPDATE_INPUT = UpdateEnterpriseSchema()
SEARCH_INPUT = SearchEnterprisesSchema()


class EnterpriseRpcs(RegistryWorker):
    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def register_enterprise(self, data):
        command = load(REGISTER_INPUT, data)
        now = self.clock.now()
        enterprise = domain.new(command, str(uuid.uuid4()), now)
        errors = domain.problems(enterprise, self.clock.today())
        if errors:
            raise invalid(errors)
        self.auth.require_county(enterprise.county_code)
        founders = self._founders(command["founder_ids"])
        operator = self.auth.operator
        existing = self.store.add_enterprise(enterprise, created_by=operator.id)
        if existing:
            self._uscc_taken(
                "an enterprise with this unified social credit code is already registered",
                *existing,
            )
        self.store.audit(operator, "register_enterprise", "enterprise", enterprise.id, now)
        [registered] = self.emit_recorded(domain.registered(enterprise))
        if domain.makes_self_employed(enterprise):
            self._make_self_employed(founders, "enterprise_registered", registered["event_id"])
        log.info(
            "enterprise.registered",
            enterprise_id=enterprise.id,
            county_code=enterprise.county_code,
            kind=enterprise.kind,
            founders=len(founders),
            operator_id=operator.id,
        )
        return domain.present(enterprise)

    @rpc(roles=WRITE, sensitive_arguments=("data",))
    def update_enterprise(self, enterprise_id, data):
        """A partial update; ``founder_ids`` replaces the founders, and a founder added to
        a business that is not closed becomes self-employed."""
        changes = load(UPDATE_INPUT, data, partial=True)
        enterprise = self._enterprise(enterprise_id, lock=True)
        now = self.clock.now()
        updated, changed, events = domain.update(enterprise, changes, now)
        errors = domain.problems(updated, self.clock.today())
        if errors:
            raise invalid(errors)
        if not changed:
            return domain.present(enterprise)
        if "county_code" in changed:  # moving a booklet needs the destination county too
            self.auth.require_county(updated.county_code)
        added = domain.added_founders(enterprise, updated)
        founders = self._founders(changes["founder_ids"]) if "founder_ids" in changed else []
        existing = self.store.save_enterprise(updated, changed)
        if existing:
            self._uscc_taken("another enterprise holds this unified social credit code", *existing)
        operator = self.auth.operator
        self.store.audit(operator, "update_enterprise", "enterprise", enterprise.id, now)
        self.emit_recorded(events)
        if added and domain.makes_self_employed(updated):
            self._make_self_employed(
                [f for f in founders if f.id in added], "enterprise_founder_added", None
            )
        log.info(
            "enterprise.updated",
            enterprise_id=enterprise.id,
            county_code=updated.county_code,
            fields=sorted(changed),
            operator_id=operator.id,
        )
        return domain.present(updated)

    @rpc(roles=READ)
    def get_enterprise(self, enterprise_id):
        return domain.present(self._enterprise(enterprise_id))

    @rpc(roles=READ, sensitive_arguments=("filters",))
    def search_enterprises(self, filters=None, page=1, page_size=50):
        """Enterprises in the operator's counties matching every filter given, in the order
        they were registered: ``{items, total, page, page_size}``."""
        query = load(SEARCH_INPUT, {} if filters is None else filters)
        page, size = load_page(page, page_size)
        if query["county_code"] is not None:
            self.auth.require_county(query["county_code"])
            counties = [query["county_code"]]
        else:
            counties = self.auth.scope()
        total, items = self.store.search_enterprises(
            counties=counties,
            kind=query["kind"],
            stage=query["stage"],
            industry=query["industry"],
            federation_member=query["federation_member"],
            name=query["name"],
            founder_id=query["founder_id"],
            limit=size,
            offset=(page - 1) * size,
        )
        return {
            "items": [domain.present(e) for e in items],
            "total": total,
            "page": page,
            "page_size": size,
        }

    @rpc(roles=READ)
    def get_booklet(self, enterprise_id):
        """一企一册: the enterprise, its founders and its timeline, newest first."""
        enterprise = self._enterprise(enterprise_id)
        operator = self.auth.operator
        return {
            "enterprise": domain.present(enterprise),
            "founders": [
                domain.present_founder(f, operator.may_see(f["county_code"]))
                for f in self.store.founders_of(enterprise.id)
            ],
            "timeline": json_rows(self.store.timeline(enterprise_id=enterprise.id)),
        }

    def enterprises_of(self, veteran_id):
        """The enterprises a veteran founded, in the operator's counties (for get_card)."""
        return [
            domain.present(e)
            for e in self.store.enterprises_founded_by(veteran_id, counties=self.auth.scope())
        ]

    # -- helpers -------------------------------------------------------------------------
    def _enterprise(self, enterprise_id, lock=False):
        enterprise = self.store.get_enterprise(
            parse_uuid(enterprise_id, "enterprise_id"), lock=lock
        )
        if enterprise is None or not self.auth.may_see(enterprise.county_code):
            raise NotFound(f"no enterprise {enterprise_id}")
        return enterprise

    def _uscc_taken(self, message, holder, county):
        """A USCC clash: names the holder only to a caller who may see it."""
        if not self.auth.may_see(county):
            raise Conflict(USCC_REGISTERED_ELSEWHERE, {})
        raise Conflict(message, {"enterprise_id": holder})

    def _founders(self, founder_ids):
        """The founders, locked in a stable order (no deadlock between two registrations
        naming the same veterans). Unknown, or outside the caller's counties (answered
        alike) → InvalidInput naming ``founder_ids.N``."""
        positions: dict[str, int] = {}
        for index, founder_id in enumerate(founder_ids):
            positions.setdefault(str(founder_id), index)
        found, errors = [], {}
        for founder_id in sorted(positions):
            veteran = self.store.get_veteran(founder_id, lock=True)
            if veteran is None or not self.auth.may_see(veteran.county_code):
                errors[f"founder_ids.{positions[founder_id]}"] = ["no veteran with this id"]
            else:
                found.append(veteran)
        if errors:
            raise invalid(errors)
        return found

    def _make_self_employed(self, founders, reason, cause_event_id):
        for veteran in founders:
            self.apply_changes(
                veteran,
                {"employment_status": "self_employed"},
                reason=reason,
                cause_event_id=cause_event_id,
            )
