"""jobs' SQL, all of it: postings, employers, fairs, applications and hires, the veterans
projection, matching (the scores of services/jobs/matching.py's ``WEIGHTS`` computed in
SQL) and the employment bureau's tables (services/jobs/bureau.py). Every value a client
sent goes in as a parameter; only fixed clause text is formatted into statements. Over
400 lines by design: the one module that knows jobs' tables, so that a change of schema
has one place to look."""
import uuid

import psycopg2.extras
from psycopg2 import errors as pg_errors

from services.jobs.matching import WEIGHTS, wanted_counties
from shared.db import DatabaseUnavailable, Store, in_counties, insert, like_containing

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

# -- matching: the score of matching.WEIGHTS, in SQL ------------------------------------
_SCORE_FOR_VETERAN = f"""
    (CASE WHEN cardinality(p.skills_required) = 0 THEN {WEIGHTS['skills_none_required']}
          -- The array operators settle most rows; counting runs for partial overlaps only.
          WHEN NOT p.skills_required && %(skills)s::text[] THEN 0
          WHEN p.skills_required <@ %(skills)s::text[] THEN {WEIGHTS['skills']}
          ELSE {WEIGHTS['skills']} * (SELECT count(*) FROM unnest(p.skills_required) s
                                      WHERE s = ANY(%(skills)s::text[]))
               / cardinality(p.skills_required) END
     + CASE WHEN p.certificates_preferred && %(certificates)s::text[]
            THEN {WEIGHTS['certificate']} ELSE 0 END
     + CASE WHEN p.occupation = ANY(%(occupations)s::text[]) THEN {WEIGHTS['occupation']} ELSE 0 END
     + CASE WHEN p.county_code = ANY(%(counties)s::text[]) THEN {WEIGHTS['county']} ELSE 0 END
     + CASE WHEN %(min_salary)s::int IS NULL OR p.salary_max >= %(min_salary)s::int
            THEN {WEIGHTS['salary']} ELSE 0 END
     + CASE WHEN p.dedicated THEN {WEIGHTS['dedicated']} ELSE 0 END)::int"""

# Candidates come in tiers an index finds, each with the most any of its postings can
# score: sharing a skill and a wanted occupation; one of the two, in a wanted county or
# not; a wanted county only. A tier is looked at only while the ranking so far leaves room
# for a posting scoring its maximum, so most calls score a few hundred rows, not tens of
# thousands.
_SKILL = "p.skills_required && %(skills)s::text[]"
_OCCUPATION = "p.occupation = ANY(%(occupations)s::text[])"
_COUNTY = "p.county_code = ANY(%(counties)s::text[])"
_ONE_OF = f"(({_SKILL}) AND NOT {_OCCUPATION} OR {_OCCUPATION} AND NOT ({_SKILL}))"
_ONE_OF_MAX = (max(WEIGHTS["skills"], WEIGHTS["occupation"] + WEIGHTS["skills_none_required"])
               + WEIGHTS["certificate"] + WEIGHTS["salary"] + WEIGHTS["dedicated"])
TIERS = (
    (f"{_SKILL} AND {_OCCUPATION}", sum(WEIGHTS.values()) - WEIGHTS["skills_none_required"]),
    (f"{_ONE_OF} AND {_COUNTY}", _ONE_OF_MAX + WEIGHTS["county"]),
    (f"{_ONE_OF} AND NOT {_COUNTY}", _ONE_OF_MAX),
    (f"{_COUNTY} AND NOT ({_SKILL}) AND NOT {_OCCUPATION}",
     WEIGHTS["skills_none_required"] + WEIGHTS["certificate"] + WEIGHTS["county"]
     + WEIGHTS["salary"] + WEIGHTS["dedicated"]),
)

_VETERAN_COUNTIES = ("CASE WHEN cardinality(v.counties) = 0 THEN ARRAY[v.county_code]"
                     " ELSE v.counties END")

_SCORE_FOR_POSTING = f"""
    (CASE WHEN cardinality(%(required)s::text[]) = 0 THEN {WEIGHTS['skills_none_required']}
          ELSE {WEIGHTS['skills']} * (SELECT count(*) FROM unnest(%(required)s::text[]) s
                                      WHERE s = ANY(v.skills))
               / cardinality(%(required)s::text[]) END
     + CASE WHEN v.certificates && %(certificates)s::text[] THEN {WEIGHTS['certificate']} ELSE 0 END
     + CASE WHEN %(occupation)s = ANY(v.occupations) THEN {WEIGHTS['occupation']} ELSE 0 END
     + CASE WHEN %(county)s = ANY({_VETERAN_COUNTIES}) THEN {WEIGHTS['county']} ELSE 0 END
     + CASE WHEN v.min_salary IS NULL OR v.min_salary <= %(salary_max)s
            THEN {WEIGHTS['salary']} ELSE 0 END
     + CASE WHEN %(dedicated)s THEN {WEIGHTS['dedicated']} ELSE 0 END)::int"""



class JobsStore(Store):
    # -- employers ------------------------------------------------------------------------
    def add_employer(self, row):
        """Inserts the employer; returns the id of the one already holding its credit code,
        or None when this one went in."""
        with self.cursor() as cur:
            insert(cur, "employers", row, " ON CONFLICT (uscc) DO NOTHING RETURNING id")
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
            insert(cur, "postings", row)

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
            add("title ILIKE %s", like_containing(query["title"]))
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
            insert(cur, "fairs", row)

    def get_fair(self, fair_id):
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT {', '.join(FAIR_COLUMNS)} FROM fairs WHERE id = %s", (fair_id,))
            return cur.fetchone()

    def existing_employers(self, ids, counties=None):
        """Which of ``ids`` are employers of ``counties`` (None: all)."""
        return self._existing("employers", ids, counties)

    def existing_postings(self, ids, counties=None):
        """Which of ``ids`` are postings of ``counties`` (None: all)."""
        return self._existing("postings", ids, counties)

    def _existing(self, table, ids, counties):
        with self.cursor() as cur:
            cur.execute(f"SELECT id FROM {table} WHERE id = ANY(%(ids)s::uuid[])"
                        f" AND {in_counties()}", {"ids": list(ids), "c": counties})
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
            insert(cur, "applications", row,
                   " ON CONFLICT (veteran_id, posting_id) DO NOTHING")
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
            insert(cur, "hires", row)

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
        scope = in_counties()
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
                f"   WHERE {in_counties('f.county_code')})"
                f"   AS fair_registrations,"
                f" (SELECT count(*) FROM applications WHERE {scope}) AS applications,"
                f" (SELECT count(*) FROM applications WHERE {scope}"
                f"   AND status IN ('offered', 'hired')) AS intentions_reached,"
                f" (SELECT count(*) FROM hires WHERE {scope}) AS hires,"
                f" (SELECT count(*) FROM hires WHERE {scope} AND dedicated"
                f"   AND channel = 'referral') AS dedicated_referrals_placed", args)
            return {key: int(value) for key, value in cur.fetchone().items()}

    # -- matching -------------------------------------------------------------------------
    def match_postings(self, veteran, today, limit, columns):
        """Open postings (date not passed, an opening left) ranked for ``veteran`` (a
        projection row): ``[(posting row, score)]``, best first, ties by closing date and
        id; candidates tier by tier (``TIERS``)."""
        args = {"skills": list(veteran["skills"]), "certificates": list(veteran["certificates"]),
                "occupations": list(veteran["occupations"]),
                "counties": wanted_counties(veteran), "min_salary": veteran["min_salary"],
                "today": today, "limit": limit, "veteran_id": veteran["veteran_id"]}
        ranked = []
        for candidates, best_possible in TIERS:
            if len(ranked) == limit and ranked[-1][1] > best_possible:
                break
            ranked = sorted(ranked + self._ranked_postings(columns, args, candidates),
                            key=lambda item: (-item[1], item[0]["closes_on"], item[0]["id"]))
            ranked = ranked[:limit]
        return ranked

    def _ranked_postings(self, columns, args, candidates):
        selected = list(dict.fromkeys([*columns, "id", "closes_on"]))
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {', '.join('p.' + c for c in selected)}, {_SCORE_FOR_VETERAN} AS score"
                " FROM postings p"
                " WHERE p.status = 'open' AND p.closes_on >= %(today)s AND p.hired < p.openings"
                f"   AND {candidates}"
                "   AND NOT EXISTS (SELECT 1 FROM applications a"
                "                   WHERE a.veteran_id = %(veteran_id)s AND a.posting_id = p.id)"
                " ORDER BY score DESC, p.closes_on, p.id LIMIT %(limit)s", args)
            return [(row, row.pop("score")) for row in cur.fetchall()]

    def match_veterans(self, posting, limit, counties, seeking, columns):
        """Veterans who want a job and are not working, ranked for ``posting``, limited to
        ``counties`` (None: all): ``[(veteran row, score)]``."""
        args = {"required": list(posting["skills_required"]),
                "certificates": list(posting["certificates_preferred"]),
                "occupation": posting["occupation"], "county": posting["county_code"],
                "salary_max": posting["salary_max"], "dedicated": posting["dedicated"],
                "limit": limit, "seeking": list(seeking), "counties": counties,
                "posting_id": posting["id"]}
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {', '.join('v.' + c for c in columns)}, {_SCORE_FOR_POSTING} AS score"
                " FROM veterans v"
                " WHERE v.willingness = 'job' AND v.employment_status = ANY(%(seeking)s)"
                f"   AND {in_counties('v.county_code', 'counties')}"
                "   AND (v.skills && %(required)s::text[]"
                "        OR %(occupation)s = ANY(v.occupations)"
                "        OR v.county_code = %(county)s OR %(county)s = ANY(v.counties))"
                "   AND NOT EXISTS (SELECT 1 FROM applications a"
                "                   WHERE a.posting_id = %(posting_id)s AND a.veteran_id = v.veteran_id)"
                " ORDER BY score DESC, v.veteran_id LIMIT %(limit)s", args)
            return [(row, row.pop("score")) for row in cur.fetchall()]

    # -- the employment bureau ------------------------------------------------------------
    def lock_bureau_batches(self):
        """One bureau batch at a time, until this transaction ends. Two batches naming the
        same new posting id would both insert it; two creating the same employers in
        another order would wait on each other. The bureau sends one batch at a time
        anyway, so serialising costs it nothing."""
        with self.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('jobs:bureau-postings'))")

    def claim_signature(self, digest, signed_at):
        """Records a request's signature; False if it was recorded already. A second
        request with it while the first's transaction is open waits for that to end: then
        it finds the row (409), or none if the first rolled back."""
        with self.cursor() as cur:
            cur.execute("INSERT INTO bureau_signatures (digest, signed_at)"
                        " VALUES (%s, to_timestamp(%s)) ON CONFLICT DO NOTHING",
                        (digest, signed_at))
            return cur.rowcount == 1

    def forget_signatures(self, before):
        """Deletes signatures signed before unix time ``before`` (by the index on
        signed_at); returns how many."""
        with self.cursor() as cur:
            cur.execute("DELETE FROM bureau_signatures WHERE signed_at < to_timestamp(%s)",
                        (before,))
            return cur.rowcount

    def bureau_posting(self, bureau_posting_id, lock=False):
        """The posting the bureau sent under this id, with its employer's credit code;
        ``lock`` holds the row against concurrent hires until the transaction ends."""
        with self.dict_cursor() as cur:
            cur.execute("SELECT p.*, e.uscc AS employer_uscc FROM postings p"
                        " JOIN employers e ON e.id = p.employer_id"
                        " WHERE p.bureau_posting_id = %s" + (" FOR UPDATE OF p" if lock else ""),
                        (bureau_posting_id,))
            return cur.fetchone()

    def update_bureau_posting(self, posting_id, version, changes, now):
        """Records the bureau's ``version`` of the posting and its ``changes``, if any
        (then ``updated_at`` too)."""
        assert set(changes) <= set(POSTING_COLUMNS)
        columns = {**changes, "bureau_version": version}
        if changes:
            columns["updated_at"] = now
        sets = ", ".join(f"{column} = %s" for column in columns)
        with self.cursor() as cur:
            cur.execute(f"UPDATE postings SET {sets} WHERE id = %s",
                        [*columns.values(), posting_id])

    def placements(self, since, limit):
        """Hires with ``seq > since``, oldest first. Sequence numbers are taken when a hire
        is inserted but become visible when it commits, possibly out of order: SHARE mode
        waits for every transaction writing hires to end (and holds new ones off for
        this one read), so no hire with a smaller seq can appear after this page."""
        try:
            with self.dict_cursor() as cur:
                cur.execute("SET LOCAL lock_timeout = '5s'")
                cur.execute("LOCK TABLE hires IN SHARE MODE")
                cur.execute(
                    "SELECT h.seq AS cursor, h.application_id, h.veteran_id, h.posting_id,"
                    " p.bureau_posting_id, e.uscc AS employer_uscc, e.name AS employer_name,"
                    " h.county_code, h.started_on, h.salary, h.channel, h.dedicated"
                    " FROM hires h JOIN postings p ON p.id = h.posting_id"
                    " JOIN employers e ON e.id = h.employer_id WHERE h.seq > %s"
                    " ORDER BY h.seq LIMIT %s", (since, limit))
                return cur.fetchall()
        except pg_errors.LockNotAvailable:
            raise DatabaseUnavailable("hires are being written; ask again") from None
