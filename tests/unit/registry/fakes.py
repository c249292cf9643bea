"""In-memory fakes of registry's stores for unit tests: one per store interface, each
answering as the real one does (same method names and parameters, checked by
``test_fakes.py``) from dicts and lists, and recording every call by name.
``FakeRegistryStore`` joins them, as ``RegistryStore`` joins the real ones."""

from collections import Counter
from datetime import UTC, datetime
from typing import NamedTuple

from services.registry.domain import MAX_DUPLICATES
from shared.contracts import envelope

# The moment the fakes stamp their envelopes with unless given another.
NOW = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


class Audit(NamedTuple):
    """One audit row as the store writes it."""

    operator_id: str
    action: str
    entity: str
    entity_id: object
    reason: object = None
    details: object = None


class FakeLedger:
    """The state every fake store part shares: cards, booklets, what was emitted, the
    timeline rows, the audit rows and the names of the methods called, in order."""

    def __init__(self, now=NOW):
        self.now = now
        self.veterans, self.enterprises = {}, {}
        self.events, self.timeline_rows, self.audits, self.calls = [], [], [], []
        self.created_by = None

    def _called(self, name):
        self.calls.append(name)

    # shared.db.Store
    def emit(self, *events):
        self._called("emit")
        self.events.extend(events)
        return [envelope("registry", e, None, self.now) for e in events]

    def outbox_backlog(self):
        self._called("outbox_backlog")
        return {"outbox_backlog": len(self.events), "outbox_oldest_seconds": 0.0}


def _in_scope(veteran, counties, stations=None):
    return (counties is None or veteran.county_code in counties) and (
        stations is None or veteran.station_code in stations
    )


def _duplicates(veterans, name, birth_date, county_code, phone, counties, stations=None):
    """Ids of the cards in ``counties`` and ``stations`` (None: all) with the same name,
    birth date and county, or the same phone, oldest first."""
    return [
        v.id
        for v in sorted(veterans, key=lambda v: (v.registered_at, v.id))
        if _in_scope(v, counties, stations)
        and (
            (v.name, v.birth_date, v.county_code) == (name, birth_date, county_code)
            or (phone and v.phone == phone)
        )
    ]


class FakeVeteranStore(FakeLedger):
    """``VeteranStore``: cards, their history, the timeline and the audit log."""

    def add_veteran(self, veteran, created_by):
        self._called("add_veteran")
        self.created_by = created_by
        for existing in self.veterans.values():
            if existing.id_number == veteran.id_number:
                return existing.id, existing.county_code, existing.station_code
        self.veterans[veteran.id] = veteran
        return None

    def get_veteran(self, veteran_id, lock=False):
        self._called("get_veteran")
        return self.veterans.get(str(veteran_id))

    def find_by_id_number(self, id_number):
        self._called("find_by_id_number")
        return next((v for v in self.veterans.values() if v.id_number == id_number), None)

    def save_changes(self, veteran, history, operator_id, at, reason=None, cause_event_id=None):
        self._called("save_changes")
        self.veterans[veteran.id] = veteran

    def add_timeline(
        self, event_id, at, source, event_type, summary, veteran_id=None, enterprise_id=None
    ):
        self._called("add_timeline")
        self.timeline_rows.append(
            (event_id, veteran_id, enterprise_id, at, source, event_type, summary)
        )

    def add_timeline_rows(self, rows):
        self._called("add_timeline_rows")
        self.timeline_rows.extend(rows)

    def timeline(self, veteran_id=None, enterprise_id=None, limit=200):
        self._called("timeline")
        column, value = (1, veteran_id) if veteran_id else (2, enterprise_id)
        rows = sorted(
            (r for r in self.timeline_rows if r[column] == value), key=lambda r: r[3], reverse=True
        )
        return [
            {"at": at, "source": source, "type": kind, "summary": summary}
            for _, _, _, at, source, kind, summary in rows[:limit]
        ]

    def timeline_counts(self, veteran_id):
        self._called("timeline_counts")
        return dict(Counter(r[5] for r in self.timeline_rows if r[1] == veteran_id))

    def audit(self, operator, action, entity, entity_id, at, reason=None, details=None):
        self._called("audit")
        self.audits.append(
            Audit(
                operator.id,
                action,
                entity,
                None if entity_id is None else str(entity_id),
                reason,
                details,
            )
        )


class FakeEnterpriseStore(FakeLedger):
    """``EnterpriseStore``: enterprises' booklets and their founders."""

    def add_enterprise(self, enterprise, created_by):
        self._called("add_enterprise")
        for existing in self.enterprises.values():
            if enterprise.uscc and existing.uscc == enterprise.uscc:
                return existing.id, existing.county_code
        self.enterprises[enterprise.id] = enterprise
        self.created_by = created_by
        return None

    def save_enterprise(self, enterprise, changed):
        self._called("save_enterprise")
        self.enterprises[enterprise.id] = enterprise
        return None

    def get_enterprise(self, enterprise_id, lock=False):
        self._called("get_enterprise")
        return self.enterprises.get(str(enterprise_id))

    def enterprises_founded_by(self, veteran_id, counties=None):
        self._called("enterprises_founded_by")
        return [
            e
            for e in sorted(self.enterprises.values(), key=lambda e: (e.registered_at, e.id))
            if str(veteran_id) in e.founder_ids and (counties is None or e.county_code in counties)
        ]


class FakeSearchStore(FakeLedger):
    """``SearchStore``: finding cards and counting the ledger. ``searches`` and
    ``counted`` keep what the service asked for."""

    def __init__(self, now=NOW):
        super().__init__(now)
        self.searches, self.counted = [], []

    def search_veterans(self, criteria, limit, offset):
        self._called("search_veterans")
        self.searches.append((criteria, limit, offset))
        found = [
            v
            for v in sorted(self.veterans.values(), key=lambda v: (v.registered_at, v.id))
            if _matches(v, criteria)
        ]
        return len(found), found[offset : offset + limit]

    def veteran_counts(self, counties, needs, stations=None):
        self._called("veteran_counts")
        self.counted.append(counties)
        in_scope = [v for v in self.veterans.values() if _in_scope(v, counties, stations)]
        by_state = Counter((v.employment_status, v.willingness) for v in in_scope)
        by_need = {need: sum(need in v.service_needs for v in in_scope) for need in needs}
        return dict(by_state), by_need

    def states_by_month(self, counties, months, month_ends, tz_name, stations=None):
        """As the store, with each card's state now (the fake keeps no history)."""
        self._called("states_by_month")
        found = Counter(
            (month, v.employment_status, v.willingness)
            for month, end in zip(months, month_ends, strict=True)
            for v in self.veterans.values()
            if v.registered_at < end
            and (counties is None or v.county_code in counties)
            and (stations is None or v.station_code in stations)
        )
        return [(*key, n) for key, n in found.items()]

    def enterprise_counts(self, counties, stations=None):
        self._called("enterprise_counts")
        return dict(
            Counter(
                (e.kind, e.stage)
                for e in self.enterprises.values()
                if counties is None or e.county_code in counties
            )
        )


def _matches(veteran, criteria):
    """``search_store.where_clause``'s conditions, in Python."""
    for key, attribute in (
        ("county_code", "county_code"),
        ("employment_status", "employment_status"),
        ("willingness", "willingness"),
    ):
        if criteria.get(key) is not None and getattr(veteran, attribute) not in criteria[key]:
            return False
    if criteria.get("stations") is not None and veteran.station_code not in criteria["stations"]:
        return False
    if not set(criteria.get("skill") or ()) <= set(veteran.skills):
        return False
    if not set(criteria.get("service_need") or ()) <= set(veteran.service_needs):
        return False
    year = veteran.discharged_on.year
    if criteria.get("discharged_from_year") is not None and year < criteria["discharged_from_year"]:
        return False
    if criteria.get("discharged_to_year") is not None and year > criteria["discharged_to_year"]:
        return False
    return not criteria.get("name") or criteria["name"].lower() in veteran.name.lower()


class FakeBulkStore(FakeLedger):
    """``BulkStore``: a batch's cards, their ID-number holders, possible duplicates and
    audit rows. ``snatched`` (``{id_number: id}``) plays numbers a concurrent transaction
    registers between the look-up and the insert."""

    def __init__(self, now=NOW):
        super().__init__(now)
        self.snatched = {}

    def card_numbers_held(self, numbers):
        self._called("card_numbers_held")
        held = {v.preferential_card_number for v in self.veterans.values()}
        return {n for n in numbers if n in held}

    def holders(self, id_numbers, counties=None, stations=None):
        self._called("holders")
        return {
            v.id_number: v.id if _in_scope(v, counties, stations) else None
            for v in self.veterans.values()
            if v.id_number in id_numbers
        }

    def duplicates_of(self, people, limit=MAX_DUPLICATES, counties=None, stations=None):
        self._called("duplicates_of")
        found = {}
        for key, name, birth_date, county_code, phone in people:
            ids = _duplicates(
                self.veterans.values(), name, birth_date, county_code, phone, counties, stations
            )[:limit]
            if ids:
                found[key] = ids
        return found

    def possible_duplicates(
        self,
        name,
        birth_date,
        county_code,
        phone,
        limit=MAX_DUPLICATES,
        counties=None,
        stations=None,
    ):
        self._called("possible_duplicates")
        return _duplicates(
            self.veterans.values(), name, birth_date, county_code, phone, counties, stations
        )[:limit]

    def add_veterans(self, veterans, created_by, counties=None, stations=None):
        self._called("add_veterans")
        lost = {
            v.id_number: self.snatched[v.id_number]
            for v in veterans
            if v.id_number in self.snatched
        }
        if lost:
            return lost
        for veteran in veterans:
            self.veterans[veteran.id] = veteran
        self.created_by = created_by
        return {}

    def audit_many(self, operator, action, entity, entity_ids, at):
        self._called("audit_many")
        self.audits += [Audit(operator.id, action, entity, str(i)) for i in entity_ids]


class FakeRegistryStore(FakeBulkStore, FakeSearchStore, FakeEnterpriseStore, FakeVeteranStore):
    """What ``RegistryStore`` offers the service, in memory."""
