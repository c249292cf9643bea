"""jobs' SQL. Every value a client sent goes in as a parameter; only fixed clause text is
formatted into statements."""
import uuid

import psycopg2.extras

from services.jobs.bureau import BureauStore
from services.jobs.matching import MatchingStore

POSTING_COLUMNS = (
    "id", "employer_id", "title", "occupation", "skills_required", "certificates_preferred",
    "county_code", "salary_min", "salary_max", "openings", "hired", "closes_on", "dedicated",
    "source", "bureau_posting_id", "description", "status", "closed_reason", "closed_at",
    "created_at", "updated_at")
EMPLOYER_COLUMNS = ("id", "name", "uscc", "county_code", "industry", "contact_name",
                    "contact_phone", "federation_member", "created_at")
APPLICATION_COLUMNS = ("id", "veteran_id", "posting_id", "county_code", "channel", "fair_id",
                       "status", "submitted_at", "updated_at")
FAIR_COLUMNS = ("id", "title", "county_code", "starts_at", "mode", "stream_url", "venue",
                "employer_ids", "posting_ids", "created_at")
VETERAN_COLUMNS = ("veteran_id", "county_code", "skills", "certificates", "occupations",
                   "counties", "min_salary", "willingness", "employment_status")
# Veterans matching offers postings to: they want a job and are not working already.
SEEKING_STATUSES = ("unemployed", "flexible", "public_welfare_post", "in_training")


def _insert(cur, table, row):
    columns = list(row)
    cur.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                f"({', '.join(['%s'] * len(columns))})", [row[c] for c in columns])


class JobsStore(BureauStore, MatchingStore):
    # -- employers ------------------------------------------------------------------------
    def add_employer(self, row):
        """Inserts the employer; returns the id of the one already holding its credit code,
        or None when this one went in."""
        with self.cursor() as cur:
            columns = list(row)
            cur.execute(f"INSERT INTO employers ({', '.join(columns)}) VALUES "
                        f"({', '.join(['%s'] * len(columns))}) ON CONFLICT (uscc) DO NOTHING"
                        " RETURNING id", [row[c] for c in columns])
            if cur.fetchone():
                return None
            cur.execute("SELECT id FROM employers WHERE uscc = %s", (row["uscc"],))
            found = cur.fetchone()
            return str(found[0]) if found else None

    def get_employer(self, employer_id):
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT {', '.join(EMPLOYER_COLUMNS)} FROM employers WHERE id = %s",
                        (employer_id,))
            return cur.fetchone()

    def employer_by_uscc(self, uscc):
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT {', '.join(EMPLOYER_COLUMNS)} FROM employers WHERE uscc = %s",
                        (uscc,))
            return cur.fetchone()

    # -- postings -------------------------------------------------------------------------
    def add_posting(self, row):
        with self.cursor() as cur:
            _insert(cur, "postings", row)

    def get_posting(self, posting_id, lock=False):
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT {', '.join(POSTING_COLUMNS)} FROM postings WHERE id = %s"
                        + (" FOR UPDATE" if lock else ""), (posting_id,))
            return cur.fetchone()

    def close_posting(self, posting_id, reason, now):
        """Closes an open posting; False if it was closed already."""
        with self.cursor() as cur:
            cur.execute("UPDATE postings SET status = 'closed', closed_reason = %s,"
                        " closed_at = %s, updated_at = %s WHERE id = %s AND status = 'open'",
                        (reason, now, now, posting_id))
            return cur.rowcount == 1

    def expire_postings(self, today, now, limit=500):
        """Closes open postings whose date has passed; returns their ids."""
        with self.cursor() as cur:
            cur.execute("UPDATE postings SET status = 'closed', closed_reason = 'expired',"
                        " closed_at = %s, updated_at = %s WHERE id IN (SELECT id FROM postings"
                        "  WHERE status = 'open' AND closes_on < %s ORDER BY closes_on, id"
                        "  LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id",
                        (now, now, today, limit))
            return [str(row[0]) for row in cur.fetchall()]

    def take_opening(self, posting_id, now):
        """One more hire on an open posting with an opening left, atomically (concurrent
        hires queue on the row and see each other's count). → (hired, openings) or None."""
        with self.cursor() as cur:
            cur.execute("UPDATE postings SET hired = hired + 1, updated_at = %s"
                        " WHERE id = %s AND status = 'open' AND hired < openings"
                        " RETURNING hired, openings", (now, posting_id))
            return cur.fetchone()

    def search_postings(self, query, today, limit, offset):
        where, args = [], []

        def add(clause, *values):
            where.append(clause)
            args.extend(values)

        if query["status"] == "open":
            add("status = 'open' AND closes_on >= %s", today)
        elif query["status"] == "closed":
            add("(status = 'closed' OR closes_on < %s)", today)
        for column in ("county_code", "occupation", "employer_id", "source", "dedicated"):
            if query.get(column) is not None:
                add(f"{column} = %s", query[column])
        if query.get("skill"):
            add("skills_required @> %s::text[]", [query["skill"]])
        if query.get("min_salary") is not None:
            add("salary_max >= %s", query["min_salary"])
        if query.get("title"):
            add("title ILIKE %s", "%" + query["title"].replace("\\", "\\\\")
                .replace("%", "\\%").replace("_", "\\_") + "%")
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT count(*) AS n FROM postings{clause}", args)
            total = cur.fetchone()["n"]
            cur.execute(f"SELECT {', '.join(POSTING_COLUMNS)} FROM postings{clause}"
                        " ORDER BY created_at DESC, id LIMIT %s OFFSET %s", args + [limit, offset])
            return total, cur.fetchall()

    # -- fairs ----------------------------------------------------------------------------
    def add_fair(self, row):
        with self.cursor() as cur:
            _insert(cur, "fairs", row)

    def get_fair(self, fair_id):
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT {', '.join(FAIR_COLUMNS)} FROM fairs WHERE id = %s", (fair_id,))
            return cur.fetchone()

    def existing(self, table, ids, counties=None):
        """Which of ``ids`` exist in ``table`` (employers or postings) within ``counties``
        (None: all)."""
        assert table in ("employers", "postings")
        with self.cursor() as cur:
            cur.execute(f"SELECT id FROM {table} WHERE id = ANY(%s::uuid[])"
                        " AND (%s::text[] IS NULL OR county_code = ANY(%s::text[]))",
                        (list(ids), counties, counties))
            return {str(row[0]) for row in cur.fetchall()}

    def register_for_fair(self, fair_id, veteran_id, now, operator_id):
        """False if the veteran was registered already."""
        with self.cursor() as cur:
            cur.execute("INSERT INTO fair_registrations (fair_id, veteran_id, registered_at,"
                        " registered_by) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                        (fair_id, veteran_id, now, operator_id))
            return cur.rowcount == 1

    def fair_figures(self, fair_id):
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT (SELECT count(*) FROM fair_registrations WHERE fair_id = %(f)s) AS registrations,"
                " (SELECT count(*) FROM applications WHERE fair_id = %(f)s) AS applications,"
                " (SELECT count(*) FROM applications WHERE fair_id = %(f)s"
                "   AND status IN ('interviewing', 'offered', 'hired')) AS interviews,"
                " (SELECT count(*) FROM applications WHERE fair_id = %(f)s"
                "   AND status IN ('offered', 'hired')) AS intentions_reached,"
                " (SELECT count(*) FROM applications WHERE fair_id = %(f)s"
                "   AND status = 'hired') AS hires", {"f": fair_id})
            return cur.fetchone()

    def is_registered_for_fair(self, fair_id, veteran_id):
        with self.cursor() as cur:
            cur.execute("SELECT 1 FROM fair_registrations WHERE fair_id = %s AND veteran_id = %s",
                        (fair_id, veteran_id))
            return cur.fetchone() is not None

    # -- applications and hires -----------------------------------------------------------
    def add_application(self, row):
        """False if the veteran has applied for this posting already."""
        with self.cursor() as cur:
            columns = list(row)
            cur.execute(f"INSERT INTO applications ({', '.join(columns)}) VALUES "
                        f"({', '.join(['%s'] * len(columns))})"
                        " ON CONFLICT (veteran_id, posting_id) DO NOTHING", [row[c] for c in columns])
            return cur.rowcount == 1

    def application_of(self, veteran_id, posting_id):
        with self.cursor() as cur:
            cur.execute("SELECT id FROM applications WHERE veteran_id = %s AND posting_id = %s",
                        (veteran_id, posting_id))
            row = cur.fetchone()
            return str(row[0]) if row else None

    def get_application(self, application_id, lock=False):
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT {', '.join(APPLICATION_COLUMNS)} FROM applications WHERE id = %s"
                        + (" FOR UPDATE" if lock else ""), (application_id,))
            return cur.fetchone()

    def set_status(self, application_id, status, now):
        with self.cursor() as cur:
            cur.execute("UPDATE applications SET status = %s, updated_at = %s WHERE id = %s",
                        (status, now, application_id))

    def add_history(self, application_id, at, from_status, to_status, note, operator_id):
        with self.cursor() as cur:
            cur.execute("INSERT INTO application_history (application_id, at, from_status,"
                        " to_status, note, operator_id) VALUES (%s, %s, %s, %s, %s, %s)",
                        (application_id, at, from_status, to_status, note, operator_id))

    def history(self, application_ids):
        with self.dict_cursor() as cur:
            cur.execute("SELECT application_id, at, from_status, to_status, note, operator_id"
                        " FROM application_history WHERE application_id = ANY(%s::uuid[])"
                        " ORDER BY id", (list(application_ids),))
            return cur.fetchall()

    def applications_of(self, veteran_id):
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {', '.join('a.' + c for c in APPLICATION_COLUMNS)},"
                " p.title, p.occupation, p.employer_id, e.name AS employer_name,"
                " h.started_on, h.salary"
                " FROM applications a JOIN postings p ON p.id = a.posting_id"
                " JOIN employers e ON e.id = p.employer_id"
                " LEFT JOIN hires h ON h.application_id = a.id"
                " WHERE a.veteran_id = %s ORDER BY a.submitted_at DESC, a.id", (veteran_id,))
            return cur.fetchall()

    def add_hire(self, row):
        with self.cursor() as cur:
            _insert(cur, "hires", row)

    # -- the veterans projection ----------------------------------------------------------
    def save_veterans(self, rows, now):
        """Upsert projection rows (dicts of VETERAN_COLUMNS), one per veteran, in veteran
        order so that concurrent batches lock rows in one order. A row read back from the
        projection holds its id as a UUID, one made from an event as a string: ordered as
        UUIDs, which is also the order of the table's key."""
        values = [tuple(row[c] for c in VETERAN_COLUMNS) + (now,)
                  for row in sorted(rows, key=lambda r: uuid.UUID(str(r["veteran_id"])))]
        if not values:
            return
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in VETERAN_COLUMNS[1:])
        with self.cursor() as cur:
            psycopg2.extras.execute_values(
                cur, f"INSERT INTO veterans ({', '.join(VETERAN_COLUMNS)}, updated_at) VALUES %s"
                f" ON CONFLICT (veteran_id) DO UPDATE SET {updates}, updated_at = EXCLUDED.updated_at",
                values, page_size=len(values))

    def get_veterans(self, veteran_ids, lock=False):
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT {', '.join(VETERAN_COLUMNS)} FROM veterans"
                        " WHERE veteran_id = ANY(%s::uuid[]) ORDER BY veteran_id"
                        + (" FOR UPDATE" if lock else ""), (sorted(veteran_ids),))
            return {str(row["veteran_id"]): row for row in cur.fetchall()}

    def get_veteran(self, veteran_id):
        return self.get_veterans([str(veteran_id)]).get(str(veteran_id))

    def save_recommendations(self, veteran_id, scored, now):
        """Replace a veteran's stored recommendations by ``[(posting_id, score)]``."""
        with self.cursor() as cur:
            cur.execute("DELETE FROM recommendations WHERE veteran_id = %s", (veteran_id,))
            if scored:
                psycopg2.extras.execute_values(
                    cur, "INSERT INTO recommendations (veteran_id, rank, posting_id, score,"
                    " refreshed_at) VALUES %s",
                    [(veteran_id, rank, posting_id, score, now)
                     for rank, (posting_id, score) in enumerate(scored, 1)])

    def recommendations(self, veteran_id):
        with self.cursor() as cur:
            cur.execute("SELECT posting_id, score FROM recommendations WHERE veteran_id = %s"
                        " ORDER BY rank", (veteran_id,))
            return [(str(p), s) for p, s in cur.fetchall()]

    # -- statistics -----------------------------------------------------------------------
    def stats(self, counties, today, now):
        """The bureau's job figures for ``counties`` (None: all). Employers, postings and
        fairs count by their own county; applications and hires by the veteran's."""
        args = {"c": counties, "today": today, "now": now}
        scope = "(%(c)s::text[] IS NULL OR county_code = ANY(%(c)s::text[]))"
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT (SELECT count(*) FROM employers WHERE {scope}) AS employers,"
                f" (SELECT count(*) FROM postings WHERE {scope}) AS postings_published,"
                f" (SELECT count(*) FROM postings WHERE {scope} AND status = 'open'"
                f"   AND closes_on >= %(today)s) AS postings_open,"
                f" (SELECT coalesce(sum(openings), 0) FROM postings WHERE {scope}) AS openings,"
                f" (SELECT coalesce(sum(openings - hired), 0) FROM postings WHERE {scope}"
                f"   AND status = 'open' AND closes_on >= %(today)s) AS openings_unfilled,"
                f" (SELECT count(*) FROM fairs WHERE {scope} AND starts_at <= %(now)s) AS fairs_held,"
                f" (SELECT count(*) FROM fair_registrations r JOIN fairs f ON f.id = r.fair_id"
                f"   WHERE (%(c)s::text[] IS NULL OR f.county_code = ANY(%(c)s::text[])))"
                f"   AS fair_registrations,"
                f" (SELECT count(*) FROM applications WHERE {scope}) AS applications,"
                f" (SELECT count(*) FROM applications WHERE {scope}"
                f"   AND status IN ('offered', 'hired')) AS intentions_reached,"
                f" (SELECT count(*) FROM hires WHERE {scope}) AS hires,"
                f" (SELECT count(*) FROM hires WHERE {scope} AND dedicated"
                f"   AND channel = 'referral') AS dedicated_referrals_placed", args)
            return {key: int(value) for key, value in cur.fetchone().items()}
