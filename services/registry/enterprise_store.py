"""registry's SQL for enterprises' booklets (一企一册) and their founders. A mixin of
``RegistryStore``: it reads veterans through ``VeteranStore.get_veteran``."""

from datetime import UTC

import psycopg2
import psycopg2.extras

from services.registry.enterprise_domain import Enterprise
from shared.db import Store, in_counties, insert, like_containing, where

COLUMNS = (
    "id",
    "kind",
    "uscc",
    "name",
    "county_code",
    "industry",
    "founded_on",
    "stage",
    "employees",
    "veteran_employees",
    "federation_member",
    "incubation_base",
    "registered_at",
    "updated_at",
    "new_hires",
)
SELECT = (
    f"SELECT {', '.join(f'e.{c}' for c in COLUMNS)},"
    " array(SELECT f.veteran_id::text FROM enterprise_founders f"
    "       WHERE f.enterprise_id = e.id ORDER BY f.veteran_id::text) AS founder_ids"
    " FROM enterprises e"
)
ORDER = " ORDER BY e.registered_at, e.id"


def enterprise_from(row):
    row = dict(row)
    row["id"] = str(row["id"])
    row["founder_ids"] = list(row["founder_ids"])
    for column in ("registered_at", "updated_at"):  # UTC, as the clock gives them
        row[column] = row[column].astimezone(UTC)
    return Enterprise(**row)


class EnterpriseStore(Store):
    def add_enterprise(self, enterprise, created_by):
        """Insert with its founders; on a taken USCC return ``(id, county_code)`` of the
        enterprise that holds it (and insert nothing)."""
        with self.cursor() as cur:
            # ON CONFLICT waits for a concurrent insert of the same USCC to commit, so of
            # two simultaneous registrations exactly one gets the row.
            insert(
                cur,
                "enterprises",
                {**{c: getattr(enterprise, c) for c in COLUMNS}, "created_by": created_by},
                " ON CONFLICT (uscc) DO NOTHING RETURNING id",
            )
            if cur.fetchone() is None:
                return self._holder(cur, enterprise.uscc)
            self._add_founders(cur, enterprise.id, enterprise.founder_ids)
        return None

    def save_enterprise(self, enterprise, changed):
        """Write the ``changed`` fields (founders replace the set). On a USCC another
        enterprise holds, change nothing and return that enterprise's ``(id, county_code)``."""
        columns = sorted((set(changed) - {"founder_ids"}) | {"updated_at"})
        with self.cursor() as cur:
            # A savepoint so that a USCC clash leaves the transaction usable to name the holder.
            cur.execute("SAVEPOINT save_enterprise")
            try:
                cur.execute(
                    f"UPDATE enterprises SET {', '.join(f'{c} = %s' for c in columns)}"
                    " WHERE id = %s",
                    [getattr(enterprise, c) for c in columns] + [enterprise.id],
                )
            except psycopg2.errors.UniqueViolation:
                cur.execute("ROLLBACK TO SAVEPOINT save_enterprise")
                return self._holder(cur, enterprise.uscc)
            cur.execute("RELEASE SAVEPOINT save_enterprise")
            if "founder_ids" in changed:
                cur.execute(
                    "DELETE FROM enterprise_founders WHERE enterprise_id = %s", (enterprise.id,)
                )
                self._add_founders(cur, enterprise.id, enterprise.founder_ids)
        return None

    @staticmethod
    def _holder(cur, uscc):
        """``(id, county_code)`` of the enterprise holding ``uscc``."""
        cur.execute("SELECT id, county_code FROM enterprises WHERE uscc = %s", (uscc,))
        holder, county = cur.fetchone()
        return str(holder), county

    @staticmethod
    def _add_founders(cur, enterprise_id, founder_ids):
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO enterprise_founders (enterprise_id, veteran_id) VALUES %s",
            [(enterprise_id, veteran_id) for veteran_id in founder_ids],
        )

    def get_enterprise(self, enterprise_id, lock=False):
        with self.dict_cursor() as cur:
            cur.execute(
                f"{SELECT} WHERE e.id = %s" + (" FOR UPDATE OF e" if lock else ""), (enterprise_id,)
            )
            row = cur.fetchone()
        return enterprise_from(row) if row else None

    def search_enterprises(
        self,
        counties=None,
        kind=None,
        stage=None,
        industry=None,
        federation_member=None,
        name=None,
        founder_id=None,
        limit=50,
        offset=0,
    ):
        """``counties`` None means every county. Returns (total, enterprises) in the order
        of registration."""
        condition, args = where(
            ("e.county_code = ANY(%s)", counties),
            ("e.kind = %s", kind),
            ("e.stage = %s", stage),
            ("e.industry = %s", industry),
            ("e.federation_member = %s", federation_member),
            ("e.name ILIKE %s", like_containing(name) if name else None),
            (
                "EXISTS (SELECT 1 FROM enterprise_founders f WHERE"
                " f.enterprise_id = e.id AND f.veteran_id = %s)",
                founder_id,
            ),
        )
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT count(*) AS total FROM enterprises e{condition}", args)
            total = cur.fetchone()["total"]
            cur.execute(f"{SELECT}{condition}{ORDER} LIMIT %s OFFSET %s", args + [limit, offset])
            return total, [enterprise_from(row) for row in cur.fetchall()]

    def enterprises_founded_by(self, veteran_id, counties=None):
        """The enterprises a veteran founded (in ``counties`` unless None), oldest first."""
        with self.dict_cursor() as cur:
            cur.execute(
                f"{SELECT} JOIN enterprise_founders ef ON ef.enterprise_id = e.id"
                f" WHERE ef.veteran_id = %(veteran)s"
                f" AND {in_counties('e.county_code')}{ORDER}",
                {"veteran": veteran_id, "c": counties},
            )
            return [enterprise_from(row) for row in cur.fetchall()]

    def founders_of(self, enterprise_id):
        """The founders as the booklet lists them:
        ``{id, name, county_code, employment_status}``."""
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT v.id::text AS id, v.name, v.county_code, v.employment_status"
                " FROM enterprise_founders f JOIN veterans v ON v.id = f.veteran_id"
                " WHERE f.enterprise_id = %s ORDER BY v.id::text",
                (enterprise_id,),
            )
            return [dict(row) for row in cur.fetchall()]
