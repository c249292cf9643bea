"""registry's SQL for registering many veterans at once: a batch's cards, their ID-number
holders, possible duplicates (a single registration's too) and audit rows, each one
statement for the whole batch."""

import json

from services.registry.card_store import COLUMNS
from services.registry.domain import MAX_DUPLICATES
from shared.db import Store, in_counties


def _json_default(value):
    return value.isoformat()  # dates and times; anything else is a bug and should fail


class BulkStore(Store):
    def holders(self, id_numbers, counties=None, stations=None):
        """``{id_number: veteran id}`` of the ID numbers already registered; the id is None
        for a card outside ``counties`` or ``stations`` (None: all), which the caller may
        not see."""
        if not id_numbers:
            return {}
        with self.cursor() as cur:
            cur.execute(
                f"SELECT id_number, CASE WHEN {in_counties()}"
                f" AND {in_counties('station_code', 's')} THEN id END"
                " FROM veterans WHERE id_number = ANY(%(numbers)s)",
                {"c": counties, "s": stations, "numbers": list(id_numbers)},
            )
            return {number: veteran_id and str(veteran_id) for number, veteran_id in cur.fetchall()}

    def card_numbers_held(self, numbers):
        """The preferential card numbers among ``numbers`` already on a card."""
        if not numbers:
            return set()
        with self.cursor() as cur:
            cur.execute(
                "SELECT preferential_card_number FROM veterans"
                " WHERE preferential_card_number = ANY(%s)",
                (list(numbers),),
            )
            return {number for (number,) in cur.fetchall()}

    def duplicates_of(self, people, limit=MAX_DUPLICATES, counties=None, stations=None):
        """Other cards with the same name, birth date and county, or the same phone, for
        many people in one query: ``[(key, name, birth_date, county_code, phone)]`` →
        ``{key: [ids, the oldest ``limit`` first]}`` (keys without any are left out).
        Only cards in ``counties`` (None: all) count: a hint never names a card the
        registering operator may not see (nor, for a station token, a card outside
        ``stations``), and the scope is applied before the cap."""
        if not people:
            return {}
        scope = None if counties is None else list(counties)
        keys, names, births, codes, phones = (list(column) for column in zip(*people, strict=True))
        with self.cursor() as cur:
            # Two probes per person, each reading at most its oldest ``limit`` straight off
            # an index in (registered_at, id) order (migration 006); the oldest ``limit`` of
            # both are among them. One query with OR read every card matching either and
            # sorted them all: thousands a row when a batch shares a placeholder phone. A
            # NULL phone matches nothing. The row estimates run high enough to start JIT
            # compilation, which costs more than the whole query: off, for this
            # transaction only.
            cur.execute(
                "SET LOCAL jit = off;"
                " SELECT b.key, d.id FROM unnest(%(keys)s::int[], %(names)s::text[],"
                " %(births)s::date[], %(counties)s::text[], %(phones)s::text[])"
                " AS b(key, name, birth_date, county_code, phone)"
                " CROSS JOIN LATERAL (SELECT id, registered_at FROM ("
                "  (SELECT v.id, v.registered_at FROM veterans v WHERE v.name = b.name"
                "   AND v.birth_date = b.birth_date AND v.county_code = b.county_code"
                f"   AND {in_counties('v.county_code', 'scope')}"
                f"   AND {in_counties('v.station_code', 'stations')}"
                "   ORDER BY v.registered_at, v.id LIMIT %(limit)s)"
                "  UNION"
                "  (SELECT v.id, v.registered_at FROM veterans v WHERE v.phone = b.phone"
                f"   AND {in_counties('v.county_code', 'scope')}"
                f"   AND {in_counties('v.station_code', 'stations')}"
                "   ORDER BY v.registered_at, v.id LIMIT %(limit)s)) found"
                "  ORDER BY registered_at, id LIMIT %(limit)s) d"
                " ORDER BY b.key, d.registered_at, d.id",
                {
                    "keys": keys,
                    "names": names,
                    "births": births,
                    "counties": codes,
                    "phones": phones,
                    "limit": limit,
                    "scope": scope,
                    "stations": None if stations is None else list(stations),
                },
            )
            found: dict[int, list[str]] = {}
            for key, veteran_id in cur.fetchall():
                found.setdefault(key, []).append(str(veteran_id))
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
        """``duplicates_of`` for one registration: the same statement, so one rule."""
        return self.duplicates_of(
            [(0, name, birth_date, county_code, phone)], limit, counties, stations
        ).get(0, [])

    def add_veterans(self, veterans, created_by, counties=None, stations=None):
        """Insert every card or none. Returns ``{}`` when all went in; when some ID numbers
        were registered meanwhile by a concurrent transaction, keeps nothing of this call
        and returns ``{id_number: holder id}`` of those, so the caller can try again
        without them."""
        if not veterans:
            return {}
        columns = ", ".join(COLUMNS)
        # The whole batch as one JSON parameter, each card's fields matched to COLUMNS by
        # name: half the client CPU of a VALUES list of 30 literals a row (measured), and
        # cheaper for the server to parse. Rows in ID-number order: two batches sharing ID
        # numbers wait on each other in the same order and cannot deadlock.
        rows = json.dumps(
            [
                {**vars(v), "created_by": created_by}
                for v in sorted(veterans, key=lambda v: v.id_number)
            ],
            default=_json_default,
            ensure_ascii=False,
        )
        with self.cursor() as cur:
            cur.execute("SAVEPOINT bulk_insert")
            cur.execute(
                f"INSERT INTO veterans ({columns}, created_by)"
                f" SELECT {columns}, created_by"
                f" FROM json_populate_recordset(NULL::veterans, %s)"
                f" ON CONFLICT (id_number) DO NOTHING RETURNING id_number",
                (rows,),
            )
            inserted = {number for (number,) in cur.fetchall()}
            if len(inserted) == len(veterans):
                cur.execute("RELEASE SAVEPOINT bulk_insert")
                return {}
            cur.execute("ROLLBACK TO SAVEPOINT bulk_insert")
        return self.holders(
            [v.id_number for v in veterans if v.id_number not in inserted], counties, stations
        )

    def audit_many(self, operator, action, entity, entity_ids, at):
        """One audit row per entity, as ``audit`` writes for one."""
        if not entity_ids:
            return
        with self.cursor() as cur:
            cur.execute(
                "INSERT INTO audit_log (at, operator_id, role, action, entity, entity_id)"
                " SELECT %s, %s, %s, %s, %s, unnest(%s::text[])",
                (at, operator.id, operator.role, action, entity, [str(i) for i in entity_ids]),
            )
