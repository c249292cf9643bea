"""registry's SQL for veterans' cards, their history and timeline: domain objects in and out."""

import json
from contextlib import contextmanager

import psycopg2.errors
import psycopg2.extras

from services.registry.bulk_store import BulkStore
from services.registry.card_store import COLUMNS, SELECT, column_values, veteran_from
from services.registry.enterprise_store import EnterpriseStore
from services.registry.form_store import FormStore
from services.registry.search_store import SearchStore
from shared.db import Store, insert, where
from shared.errors import Conflict
from shared.masks import mask_card_number

# A preferential card number another card holds: the reply names neither card nor county.
CARD_NUMBER_TAKEN = "this preferential card number is already on another card"
CARD_NUMBER_INDEX = "veterans_preferential_card"
# History keeps these masked: the card's history is read with the card, the full value
# only through the audited reveal.
MASKED_IN_HISTORY = {"preferential_card_number": mask_card_number}


@contextmanager
def card_number_unique(cur, name):
    """A clash on the preferential card number becomes ``Conflict`` (the savepoint
    ``name`` keeps the transaction usable); the database's message, which holds the number,
    goes nowhere."""
    cur.execute(f"SAVEPOINT {name}")
    try:
        yield
    except psycopg2.errors.UniqueViolation as exc:
        if exc.diag.constraint_name != CARD_NUMBER_INDEX:
            raise
        cur.execute(f"ROLLBACK TO SAVEPOINT {name}")
        raise Conflict(CARD_NUMBER_TAKEN, {}) from None
    cur.execute(f"RELEASE SAVEPOINT {name}")


class VeteranStore(Store):
    def add_veteran(self, veteran, created_by):
        """Insert; on a taken ID number return ``(id, county_code, station_code)`` of the
        veteran who holds it."""
        with self.cursor() as cur:
            # ON CONFLICT waits for a concurrent insert of the same ID number to commit,
            # so of two simultaneous registrations exactly one gets the row.
            row = dict(zip(COLUMNS, column_values(veteran), strict=True))
            with card_number_unique(cur, "add_veteran"):
                insert(
                    cur,
                    "veterans",
                    {**row, "created_by": created_by},
                    " ON CONFLICT (id_number) DO NOTHING RETURNING id",
                )
                inserted = cur.fetchone()
            if inserted:
                return None
            cur.execute(
                "SELECT id, county_code, station_code FROM veterans WHERE id_number = %s",
                (veteran.id_number,),
            )
            holder, county, station = cur.fetchone()
            return str(holder), county, station

    def get_veteran(self, veteran_id, lock=False):
        return self._one(f"{SELECT} WHERE id = %s" + (" FOR UPDATE" if lock else ""), (veteran_id,))

    def find_by_id_number(self, id_number):
        return self._one(f"{SELECT} WHERE id_number = %s", (id_number,))

    def _one(self, sql, args):
        with self.dict_cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
        return veteran_from(row) if row else None

    def save_changes(self, veteran, history, operator_id, at, reason=None, cause_event_id=None):
        """Write the changed fields of ``veteran`` and one history row per change."""
        columns = sorted(
            {c.field for c in history} | {"employer", "employed_since"} | {"updated_at"}
        )
        with self.cursor() as cur:
            with card_number_unique(cur, "save_changes"):
                cur.execute(
                    f"UPDATE veterans SET {', '.join(f'{c} = %s' for c in columns)} WHERE id = %s",
                    column_values(veteran, columns) + [veteran.id],
                )
            mask = MASKED_IN_HISTORY.get
            rows = [
                (
                    veteran.id,
                    at,
                    operator_id,
                    c.field,
                    json.dumps(mask(c.field, _same)(c.old), default=str),
                    json.dumps(mask(c.field, _same)(c.new), default=str),
                    reason,
                    cause_event_id,
                )
                for c in history
            ]
            cur.executemany(
                "INSERT INTO veteran_history (veteran_id, at, operator_id, field,"
                " old_value, new_value, reason, cause_event_id)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )

    def history(self, veteran_id, limit=100):
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT at, operator_id, field, old_value AS old, new_value AS new, reason"
                " FROM veteran_history WHERE veteran_id = %s ORDER BY at DESC, id DESC"
                " LIMIT %s",
                (veteran_id, limit),
            )
            return [dict(row) for row in cur.fetchall()]

    def add_timeline(
        self, event_id, at, source, event_type, summary, veteran_id=None, enterprise_id=None
    ):
        self.add_timeline_rows(
            [(event_id, veteran_id, enterprise_id, at, source, event_type, summary)]
        )

    def add_timeline_rows(self, rows):
        """Rows of (event_id, veteran_id, enterprise_id, at, source, type, summary)."""
        if rows:
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO timeline (event_id, veteran_id, enterprise_id, at, source,"
                    " type, summary) VALUES %s ON CONFLICT DO NOTHING",
                    rows,
                    page_size=len(rows),
                )

    def timeline(self, veteran_id=None, enterprise_id=None, limit=200):
        column, value = (
            ("veteran_id", veteran_id) if veteran_id else ("enterprise_id", enterprise_id)
        )
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT at, source, type, summary FROM timeline WHERE {column} = %s"
                " ORDER BY at DESC, id DESC LIMIT %s",
                (value, limit),
            )
            return [dict(row) for row in cur.fetchall()]

    def timeline_counts(self, veteran_id):
        with self.cursor() as cur:
            cur.execute(
                "SELECT type, count(*) FROM timeline WHERE veteran_id = %s GROUP BY type",
                (veteran_id,),
            )
            return dict(cur.fetchall())

    def audit(self, operator, action, entity, entity_id, at, reason=None, details=None):
        """One audit row. ``entity_id`` None: a read over many (a search); ``details``: what
        else the row should say (a search's filter keys and row count), no personal value."""
        with self.cursor() as cur:
            insert(
                cur,
                "audit_log",
                {
                    "at": at,
                    "operator_id": operator.id,
                    "role": operator.role,
                    "action": action,
                    "entity": entity,
                    "entity_id": None if entity_id is None else str(entity_id),
                    "reason": reason,
                    "details": None if details is None else json.dumps(details),
                },
            )

    def audit_entries(
        self, operator_id=None, action=None, since=None, until=None, limit=50, offset=0
    ):
        condition, args = where(
            ("operator_id = %s", operator_id),
            ("action = %s", action),
            ("at >= %s", since),
            ("at < %s", until),
        )
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT count(*) AS total FROM audit_log{condition}", args)
            total = cur.fetchone()["total"]
            cur.execute(
                f"SELECT at, operator_id, role, action, entity, entity_id, reason,"
                f" details FROM audit_log{condition} ORDER BY at DESC, id DESC"
                f" LIMIT %s OFFSET %s",
                args + [limit, offset],
            )
            return total, [dict(row) for row in cur.fetchall()]


class RegistryStore(BulkStore, SearchStore, FormStore, EnterpriseStore, VeteranStore):
    """The store the service injects; enterprise, search and bulk parts join as mixins."""


def _same(value):
    return value
