"""training's SQL: records in and out as ``domain`` dataclasses. Client values go in as
parameters; only fixed clause text is formatted."""

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg2.errors
import psycopg2.extras

from services.training.domain import (
    Assignment,
    Base,
    Certificate,
    Cohort,
    Competition,
    Course,
    Enrollment,
    Entry,
    Mentor,
    Placement,
    Veteran,
)
from services.training.placement_domain import OpenCohort
from shared.db import Store, in_counties, insert
from shared.errors import Conflict
from shared.records import as_dict

VETERAN_COLUMNS = (
    "veteran_id",
    "county_code",
    "skills",
    "occupations",
    "service_needs",
    "willingness",
    "employment_status",
)
T = TypeVar("T")


def _record(make: Callable[..., T], row: dict[str, Any]) -> T:
    """A row as a record, its uuids as text (what events and replies carry)."""
    return make(
        **{key: str(value) if isinstance(value, uuid.UUID) else value for key, value in row.items()}
    )


def _one(make: Callable[..., T], row: dict[str, Any] | None) -> T | None:
    return None if row is None else _record(make, row)


def _entry(row):
    if row is not None:
        row = {
            ("group" if key == "competition_group" else key): value for key, value in row.items()
        }
    return _one(Entry, row)


class TrainingStore(Store):
    def _add(self, table, record):
        with self.cursor() as cur:
            insert(cur, table, as_dict(record))

    def _row(self, table, row_id, lock=False):
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT * FROM {table} WHERE id = %s" + (" FOR UPDATE" if lock else ""), (row_id,)
            )
            return cur.fetchone()

    # -- bases, courses, cohorts ----------------------------------------------------------
    def add_base(self, base: Base) -> None:
        self._add("bases", base)

    def base(self, base_id) -> Base | None:
        return _one(Base, self._row("bases", base_id))

    def add_course(self, course: Course) -> None:
        self._add("courses", course)

    def course(self, course_id) -> Course | None:
        return _one(Course, self._row("courses", course_id))

    def add_cohort(self, cohort: Cohort) -> None:
        self._add("cohorts", cohort)

    def cohort(self, cohort_id) -> Cohort | None:
        return _one(Cohort, self._row("cohorts", cohort_id))

    # -- enrollment -----------------------------------------------------------------------
    def add_enrollment(self, enrollment: Enrollment) -> None:
        """``Conflict`` when the veteran is enrolled in this cohort already, or (still)
        in another cohort of the course."""
        with self.cursor() as cur:
            cur.execute("SAVEPOINT enrolling")
            try:
                insert(cur, "enrollments", as_dict(enrollment))
            except psycopg2.errors.UniqueViolation as exc:
                cur.execute("ROLLBACK TO SAVEPOINT enrolling")
                if exc.diag.constraint_name == "enrollments_once":
                    raise Conflict(
                        "the veteran is enrolled in this cohort already",
                        {"cohort_id": enrollment.cohort_id},
                    ) from exc
                raise Conflict(
                    "the veteran is enrolled in another cohort of this course",
                    {"course_id": enrollment.course_id},
                ) from exc
            cur.execute("RELEASE SAVEPOINT enrolling")

    def take_seat(self, cohort_id: str) -> None:
        """One more enrollment if a seat is left (concurrent enrollments queue on the row
        and see each other's count), else ``Conflict``: the cohort is full."""
        with self.cursor() as cur:
            cur.execute(
                "UPDATE cohorts SET enrolled = enrolled + 1 WHERE id = %s AND enrolled < capacity",
                (cohort_id,),
            )
            if cur.rowcount != 1:
                raise Conflict("the cohort is full", {"cohort_id": cohort_id})

    def enrollment(self, enrollment_id, lock=False) -> Enrollment | None:
        return _one(Enrollment, self._row("enrollments", enrollment_id, lock))

    def withdraw(self, enrollment: Enrollment) -> None:
        """Saves a withdrawal and frees its seat."""
        with self.cursor() as cur:
            cur.execute(
                "UPDATE enrollments SET status = %s, withdrawn_at = %s WHERE id = %s",
                (enrollment.status, enrollment.withdrawn_at, enrollment.id),
            )
            cur.execute(
                "UPDATE cohorts SET enrolled = enrolled - 1 WHERE id = %s", (enrollment.cohort_id,)
            )

    def save_result(self, enrollment: Enrollment) -> None:
        with self.cursor() as cur:
            cur.execute(
                "UPDATE enrollments SET status = %s, passed = %s, completed_on = %s,"
                " theory_score = %s, practical_score = %s WHERE id = %s",
                (
                    enrollment.status,
                    enrollment.passed,
                    enrollment.completed_on,
                    enrollment.theory_score,
                    enrollment.practical_score,
                    enrollment.id,
                ),
            )

    def next_certificate_number(self) -> int:
        with self.cursor() as cur:
            cur.execute("SELECT nextval('certificate_numbers')")
            return cur.fetchone()[0]

    def add_certificate(self, certificate: Certificate) -> None:
        self._add("certificates", certificate)

    def trainings_of(self, veteran_id):
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT e.id, e.status, e.cohort_id, e.course_id, c.title, c.certificate_name,"
                " h.starts_on, h.ends_on, e.enrolled_at, e.theory_score, e.practical_score,"
                " e.passed, e.completed_on, t.cert_no, t.issued_on"
                " FROM enrollments e JOIN courses c ON c.id = e.course_id"
                " JOIN cohorts h ON h.id = e.cohort_id"
                " LEFT JOIN certificates t ON t.enrollment_id = e.id"
                " WHERE e.veteran_id = %s ORDER BY e.enrolled_at DESC, e.id",
                (veteran_id,),
            )
            return cur.fetchall()

    # -- the projections ------------------------------------------------------------------
    def save_veterans(self, veterans, now):
        values = [
            tuple(getattr(veteran, c) for c in VETERAN_COLUMNS) + (now,)
            for veteran in sorted(veterans, key=lambda v: v.veteran_id)
        ]
        if values:
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in VETERAN_COLUMNS[1:])
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur,
                    f"INSERT INTO veterans ({', '.join(VETERAN_COLUMNS)}, updated_at)"
                    f" VALUES %s ON CONFLICT (veteran_id) DO UPDATE SET {updates},"
                    " updated_at = EXCLUDED.updated_at",
                    values,
                    page_size=len(values),
                )

    def veteran(self, veteran_id) -> Veteran | None:
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {', '.join(VETERAN_COLUMNS)} FROM veterans WHERE veteran_id = %s",
                (veteran_id,),
            )
            return _one(Veteran, cur.fetchone())

    def add_placements(self, placements: list[Placement]) -> None:
        """A repeated placement (the same event for the same veteran) changes nothing."""
        rows = [(p.veteran_id, p.event_id, p.kind, p.placed_on) for p in placements]
        if rows:
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO placements (veteran_id, event_id, kind, placed_on)"
                    " VALUES %s ON CONFLICT DO NOTHING",
                    rows,
                    page_size=len(rows),
                )

    def open_cohorts(self, today) -> list[OpenCohort]:
        """Cohorts not started yet with a seat left, with their course's facts."""
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT h.id, h.course_id, h.starts_on, h.ends_on, h.capacity,"
                " h.enrolled, h.county_code, c.title, c.occupation, c.skills_granted,"
                " c.certificate_name, c.mode FROM cohorts h"
                " JOIN courses c ON c.id = h.course_id"
                " WHERE h.starts_on >= %s AND h.enrolled < h.capacity"
                " ORDER BY h.starts_on, h.id",
                (today,),
            )
            return [_record(OpenCohort, row) for row in cur.fetchall()]

    def save_recommendations(self, veteran_id, scored, now):
        with self.cursor() as cur:
            cur.execute("DELETE FROM recommendations WHERE veteran_id = %s", (veteran_id,))
            if scored:
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO recommendations (veteran_id, rank, cohort_id, score,"
                    " refreshed_at) VALUES %s",
                    [
                        (veteran_id, rank, cohort_id, score, now)
                        for rank, (cohort_id, score) in enumerate(scored, 1)
                    ],
                )

    # -- placement ------------------------------------------------------------------------
    def graduates(self, course_id):
        """(cohort_id, veteran_id, completed_on) of everyone who passed the course."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT cohort_id::text, veteran_id::text, completed_on FROM enrollments"
                " WHERE course_id = %s AND passed ORDER BY cohort_id",
                (course_id,),
            )
            return cur.fetchall()

    def placements_of(self, veteran_ids):
        with self.cursor() as cur:
            cur.execute(
                "SELECT veteran_id::text, placed_on FROM placements"
                " WHERE veteran_id = ANY(%s::uuid[])",
                (list(veteran_ids),),
            )
            found: dict[str, list] = {}
            for veteran_id, day in cur.fetchall():
                found.setdefault(veteran_id, []).append(day)
            return found

    # -- mentors and competitions ---------------------------------------------------------
    def add_mentor(self, mentor: Mentor) -> None:
        self._add("mentors", mentor)

    def mentor(self, mentor_id) -> Mentor | None:
        return _one(Mentor, self._row("mentors", mentor_id))

    def add_assignment(self, assignment: Assignment) -> bool:
        """False when the mentor was assigned to the veteran already."""
        with self.cursor() as cur:
            insert(cur, "mentor_assignments", as_dict(assignment), " ON CONFLICT DO NOTHING")
            return cur.rowcount == 1

    def add_competition(self, competition: Competition) -> None:
        self._add("competitions", competition)

    def competition(self, competition_id) -> Competition | None:
        return _one(Competition, self._row("competitions", competition_id))

    def add_entry(self, entry: Entry) -> None:
        """``Conflict`` if the veteran has an entry in this competition already."""
        row = {
            ("competition_group" if key == "group" else key): value
            for key, value in as_dict(entry).items()
        }
        with self.cursor() as cur:
            insert(cur, "entries", row, " ON CONFLICT (competition_id, veteran_id) DO NOTHING")
            if cur.rowcount != 1:
                raise Conflict(
                    "the veteran has an entry in this competition already",
                    {"competition_id": entry.competition_id},
                )

    def entry(self, entry_id, lock=False) -> Entry | None:
        return _entry(self._row("entries", entry_id, lock))

    def save_award(self, entry: Entry) -> None:
        with self.cursor() as cur:
            cur.execute(
                "UPDATE entries SET prize = %s, rank = %s, awarded_at = %s WHERE id = %s",
                (entry.prize, entry.rank, entry.awarded_at, entry.id),
            )

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
                "   AS awards",
                args,
            )
            figures = {key: int(value) for key, value in cur.fetchone().items()}
            cur.execute(
                f"SELECT veteran_id::text, completed_on FROM enrollments WHERE {county} AND passed",
                args,
            )
            graduates = [(row["veteran_id"], row["completed_on"]) for row in cur.fetchall()]
        return figures, graduates
