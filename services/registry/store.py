"""registry's SQL: veterans' cards in, domain objects out."""
import json

from services.registry.domain import Veteran
from shared.db import Store

COLUMNS = ("id", "id_number", "name", "phone", "gender", "birth_date", "county_code", "address",
           "branch", "enlisted_on", "discharged_on", "discharge_type", "skills", "certificates",
           "intentions", "willingness", "employment_status", "service_needs", "flags",
           "registered_at", "updated_at")
SELECT = f"SELECT {', '.join(COLUMNS)} FROM veterans"


def _veteran(row):
    row = dict(row)
    row["id"] = str(row["id"])
    return Veteran(**row)


class RegistryStore(Store):
    def add_veteran(self, veteran, created_by):
        """Insert; on a taken ID number return the id of the veteran who holds it."""
        values = [getattr(veteran, c) for c in COLUMNS]
        values[COLUMNS.index("intentions")] = json.dumps(veteran.intentions)
        with self.cursor() as cur:
            # ON CONFLICT waits for a concurrent insert of the same ID number to commit,
            # so of two simultaneous registrations exactly one gets the row.
            cur.execute(f"INSERT INTO veterans ({', '.join(COLUMNS)}, created_by)"
                        f" VALUES ({', '.join(['%s'] * (len(COLUMNS) + 1))})"
                        " ON CONFLICT (id_number) DO NOTHING RETURNING id",
                        values + [created_by])
            if cur.fetchone():
                return None
            cur.execute("SELECT id FROM veterans WHERE id_number = %s", (veteran.id_number,))
            return str(cur.fetchone()[0])

    def get_veteran(self, veteran_id):
        return self._one(f"{SELECT} WHERE id = %s", (veteran_id,))

    def find_by_id_number(self, id_number):
        return self._one(f"{SELECT} WHERE id_number = %s", (id_number,))

    def _one(self, sql, args):
        with self.dict_cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
        return _veteran(row) if row else None

    def audit(self, operator, action, entity, entity_id, at, reason=None):
        with self.cursor() as cur:
            cur.execute("INSERT INTO audit_log (at, operator_id, role, action, entity, entity_id,"
                        " reason) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        (at, operator.id, operator.role, action, entity, str(entity_id), reason))

    def audit_entries(self, operator_id=None, action=None, since=None, until=None,
                      limit=50, offset=0):
        where, args = [], []
        for clause, value in (("operator_id = %s", operator_id), ("action = %s", action),
                              ("at >= %s", since), ("at < %s", until)):
            if value is not None:
                where.append(clause)
                args.append(value)
        condition = f" WHERE {' AND '.join(where)}" if where else ""
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT count(*) AS total FROM audit_log{condition}", args)
            total = cur.fetchone()["total"]
            cur.execute(f"SELECT at, operator_id, role, action, entity, entity_id, reason"
                        f" FROM audit_log{condition} ORDER BY at DESC, id DESC"
                        f" LIMIT %s OFFSET %s", args + [limit, offset])
            return total, [dict(row) for row in cur.fetchall()]
