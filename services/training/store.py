"""training's SQL. Client values go in as parameters; only fixed clause text is formatted."""
import psycopg2.extras

from shared.db import Store, in_counties, insert

VETERAN_COLUMNS = ("veteran_id", "county_code", "skills", "occupations", "service_needs",
                   "willingness", "employment_status")


class TrainingStore(Store):
    def add(self, table, row):
        assert table in ("bases", "courses", "cohorts", "mentors", "competitions")
        with self.cursor() as cur:
            insert(cur, table, row)

    def get(self, table, row_id, lock=False):
        assert table in ("bases", "courses", "cohorts", "mentors", "competitions",
                         "enrollments", "entries")
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT * FROM {table} WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                        (row_id,))
            return cur.fetchone()

    # -- enrollment -----------------------------------------------------------------------
    def take_seat(self, cohort_id):
        """One more enrollment if a seat is left (concurrent enrollments queue on the row
        and see each other's count): True if taken."""
        with self.cursor() as cur:
            cur.execute("UPDATE cohorts SET enrolled = enrolled + 1 WHERE id = %s"
                        " AND enrolled < capacity", (cohort_id,))
            return cur.rowcount == 1

    def free_seat(self, cohort_id):
        with self.cursor() as cur:
            cur.execute("UPDATE cohorts SET enrolled = enrolled - 1 WHERE id = %s", (cohort_id,))

    def add_enrollment(self, row):
        """None when it went in, else what stands in its way: ``"cohort"`` (enrolled in
        this cohort before) or ``"course"`` (enrolled in another cohort of the course)."""
        with self.cursor() as cur:
            cur.execute("SAVEPOINT enrolling")
            try:
                insert(cur, "enrollments", row)
            except psycopg2.errors.UniqueViolation as exc:
                cur.execute("ROLLBACK TO SAVEPOINT enrolling")
                return "cohort" if exc.diag.constraint_name == "enrollments_once" else "course"
            cur.execute("RELEASE SAVEPOINT enrolling")
            return None

    def update_enrollment(self, enrollment_id, **changes):
        sets = ", ".join(f"{column} = %s" for column in changes)
        with self.cursor() as cur:
            cur.execute(f"UPDATE enrollments SET {sets} WHERE id = %s",
                        [*changes.values(), enrollment_id])

    def next_certificate_number(self):
        with self.cursor() as cur:
            cur.execute("SELECT nextval('certificate_numbers')")
            return cur.fetchone()[0]

    def add_certificate(self, row):
        with self.cursor() as cur:
            insert(cur, "certificates", row)

    def trainings_of(self, veteran_id):
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT e.id, e.status, e.cohort_id, e.course_id, c.title, c.certificate_name,"
                " h.starts_on, h.ends_on, e.enrolled_at, e.theory_score, e.practical_score,"
                " e.passed, e.completed_on, t.cert_no, t.issued_on"
                " FROM enrollments e JOIN courses c ON c.id = e.course_id"
                " JOIN cohorts h ON h.id = e.cohort_id"
                " LEFT JOIN certificates t ON t.enrollment_id = e.id"
                " WHERE e.veteran_id = %s ORDER BY e.enrolled_at DESC, e.id", (veteran_id,))
            return cur.fetchall()

    # -- the projections ------------------------------------------------------------------
    def save_veterans(self, rows, now):
        values = [tuple(row[c] for c in VETERAN_COLUMNS) + (now,)
                  for row in sorted(rows, key=lambda r: r["veteran_id"])]
        if values:
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in VETERAN_COLUMNS[1:])
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur, f"INSERT INTO veterans ({', '.join(VETERAN_COLUMNS)}, updated_at)"
                    f" VALUES %s ON CONFLICT (veteran_id) DO UPDATE SET {updates},"
                    " updated_at = EXCLUDED.updated_at", values, page_size=len(values))

    def get_veteran(self, veteran_id):
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT {', '.join(VETERAN_COLUMNS)} FROM veterans"
                        " WHERE veteran_id = %s", (veteran_id,))
            return cur.fetchone()

    def add_placements(self, rows):
        """(veteran_id, event_id, kind, placed_on) rows; a repeated one changes nothing."""
        if rows:
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur, "INSERT INTO placements (veteran_id, event_id, kind, placed_on)"
                    " VALUES %s ON CONFLICT DO NOTHING", rows, page_size=len(rows))

    def open_cohorts(self, today):
        """Cohorts not started yet with a seat left, with their course's facts."""
        with self.dict_cursor() as cur:
            cur.execute("SELECT h.id, h.course_id, h.starts_on, h.ends_on, h.capacity,"
                        " h.enrolled, h.county_code, c.title, c.occupation, c.skills_granted,"
                        " c.certificate_name, c.mode FROM cohorts h"
                        " JOIN courses c ON c.id = h.course_id"
                        " WHERE h.starts_on >= %s AND h.enrolled < h.capacity"
                        " ORDER BY h.starts_on, h.id", (today,))
            return cur.fetchall()

    def save_recommendations(self, veteran_id, scored, now):
        with self.cursor() as cur:
            cur.execute("DELETE FROM recommendations WHERE veteran_id = %s", (veteran_id,))
            if scored:
                psycopg2.extras.execute_values(
                    cur, "INSERT INTO recommendations (veteran_id, rank, cohort_id, score,"
                    " refreshed_at) VALUES %s",
                    [(veteran_id, rank, cohort_id, score, now)
                     for rank, (cohort_id, score) in enumerate(scored, 1)])

    # -- placement ------------------------------------------------------------------------
    def graduates(self, course_id):
        """(cohort_id, veteran_id, completed_on) of everyone who passed the course."""
        with self.cursor() as cur:
            cur.execute("SELECT cohort_id::text, veteran_id::text, completed_on FROM enrollments"
                        " WHERE course_id = %s AND passed ORDER BY cohort_id", (course_id,))
            return cur.fetchall()

    def placements_of(self, veteran_ids):
        with self.cursor() as cur:
            cur.execute("SELECT veteran_id::text, placed_on FROM placements"
                        " WHERE veteran_id = ANY(%s::uuid[])", (list(veteran_ids),))
            found = {}
            for veteran_id, day in cur.fetchall():
                found.setdefault(veteran_id, []).append(day)
            return found

    # -- mentors and competitions ---------------------------------------------------------
    def assign_mentor(self, veteran_id, mentor_id, county_code, now, operator_id):
        with self.cursor() as cur:
            cur.execute("INSERT INTO mentor_assignments (veteran_id, mentor_id, county_code,"
                        " assigned_at, assigned_by) VALUES (%s, %s, %s, %s, %s)"
                        " ON CONFLICT DO NOTHING", (veteran_id, mentor_id, county_code, now,
                                                    operator_id))
            return cur.rowcount == 1

    def add_entry(self, row):
        """False if the veteran has an entry in this competition already."""
        row = {("competition_group" if key == "group" else key): value
               for key, value in row.items()}
        with self.cursor() as cur:
            insert(cur, "entries", row,
                   " ON CONFLICT (competition_id, veteran_id) DO NOTHING")
            return cur.rowcount == 1

    def award(self, entry_id, prize, rank, now):
        with self.cursor() as cur:
            cur.execute("UPDATE entries SET prize = %s, rank = %s, awarded_at = %s"
                        " WHERE id = %s AND awarded_at IS NULL", (prize, rank, now, entry_id))
            return cur.rowcount == 1

    # -- statistics -----------------------------------------------------------------------
    def stats(self, counties):
        args = {"c": counties}
        county = in_counties()
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT (SELECT count(*) FROM bases WHERE {county} AND kind = 'training')"
                "   AS training_bases,"
                f" (SELECT count(*) FROM bases WHERE {county} AND kind = 'incubation')"
                "   AS incubation_bases,"
                f" (SELECT count(*) FROM courses WHERE {county}) AS courses,"
                f" (SELECT count(*) FROM cohorts WHERE {county}) AS cohorts,"
                f" (SELECT count(*) FROM enrollments WHERE {county}) AS enrolled,"
                f" (SELECT count(*) FROM enrollments WHERE {county} AND status = 'completed')"
                "   AS completed,"
                f" (SELECT count(*) FROM enrollments WHERE {county} AND passed) AS passed,"
                " (SELECT count(*) FROM certificates t JOIN enrollments e"
                f"   ON e.id = t.enrollment_id WHERE {in_counties('e.county_code')})"
                "   AS certificates,"
                f" (SELECT count(*) FROM mentors WHERE {county}) AS mentors,"
                f" (SELECT count(*) FROM mentor_assignments WHERE {county}) AS mentored_veterans,"
                f" (SELECT count(*) FROM entries WHERE {county}) AS competition_entries,"
                f" (SELECT count(*) FROM entries WHERE {county} AND awarded_at IS NOT NULL)"
                "   AS awards", args)
            figures = {key: int(value) for key, value in cur.fetchone().items()}
            cur.execute(f"SELECT veteran_id::text, completed_on FROM enrollments"
                        f" WHERE {county} AND passed", args)
            graduates = [(row["veteran_id"], row["completed_on"]) for row in cur.fetchall()]
        return figures, graduates
