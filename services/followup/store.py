"""followup's SQL: records in and out as ``domain`` dataclasses, including the scheduler's
claim (its own short transaction, so the lease is visible to other instances before the
work is done). Client values go in as parameters; only fixed clause text is formatted."""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import astuple, fields
from typing import Any, TypeVar

import psycopg2.extras

from services.followup.domain import Contact, Hire, Issue, Revisit, StatusChange
from services.followup.planning_domain import Wanted
from shared.db import Store, in_counties, insert
from shared.months import month_sql
from shared.records import as_dict

# A revisit's columns but the scheduler's lease (claimed_by, lease_until), the store's own.
REVISIT_COLUMNS = ", ".join(f.name for f in fields(Revisit))
ISSUE_COLUMNS = ", ".join(f.name for f in fields(Issue))
SCOPE = in_counties()
T = TypeVar("T")


def _record(make: Callable[..., T], row: dict[str, Any]) -> T:
    """A row as a record, its uuids as text (what events and replies carry)."""
    return make(
        **{key: str(value) if isinstance(value, uuid.UUID) else value for key, value in row.items()}
    )


def _one(make: Callable[..., T], row: dict[str, Any] | None) -> T | None:
    return None if row is None else _record(make, row)


class FollowupStore(Store):
    # -- projections ----------------------------------------------------------------------
    def save_veterans(self, counties, now):
        """``{veteran_id: (county_code, as_of)}``; an older fact never replaces a newer."""
        if counties:
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO veterans (veteran_id, county_code, as_of, updated_at)"
                    " VALUES %s ON CONFLICT (veteran_id) DO UPDATE SET"
                    " county_code = EXCLUDED.county_code, as_of = EXCLUDED.as_of,"
                    " updated_at = EXCLUDED.updated_at"
                    " WHERE veterans.as_of IS NULL OR veterans.as_of <= EXCLUDED.as_of",
                    [(v, county, at, now) for v, (county, at) in sorted(counties.items())],
                    page_size=len(counties),
                )

    def save_enterprises(self, counties, now):
        if counties:
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO enterprises (enterprise_id, county_code, as_of) VALUES %s"
                    " ON CONFLICT (enterprise_id) DO UPDATE SET county_code ="
                    " EXCLUDED.county_code, as_of = EXCLUDED.as_of",
                    [(e, county, now) for e, county in sorted(counties.items())],
                    page_size=len(counties),
                )

    def counties_of(self, veteran_ids):
        if not veteran_ids:
            return {}
        with self.cursor() as cur:
            cur.execute(
                "SELECT veteran_id::text, county_code FROM veterans"
                " WHERE veteran_id = ANY(%s::uuid[])",
                (list(veteran_ids),),
            )
            return dict(cur.fetchall())

    def enterprise_counties(self, enterprise_ids):
        ids = sorted({e for e in enterprise_ids if e})
        if not ids:
            return {}
        with self.cursor() as cur:
            cur.execute(
                "SELECT enterprise_id, county_code FROM enterprises WHERE enterprise_id = ANY(%s)",
                (ids,),
            )
            return dict(cur.fetchall())

    def county_of(self, veteran_id: str) -> str | None:
        return self.counties_of([veteran_id]).get(veteran_id)

    def add_hires(self, hires: list[Hire]) -> None:
        """A repeated hire changes nothing."""
        self._add_rows("hires", Hire, hires)

    def add_status_changes(self, changes: list[StatusChange]) -> None:
        """A repeated status change changes nothing."""
        self._add_rows("status_changes", StatusChange, changes)

    def _add_rows(self, table, record_type, records):
        if records:
            columns = ", ".join(f.name for f in fields(record_type))
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur,
                    f"INSERT INTO {table} ({columns}) VALUES %s ON CONFLICT DO NOTHING",
                    [astuple(record) for record in records],
                    page_size=len(records),
                )

    # -- plans waiting for a county -------------------------------------------------------
    def park(self, wanted, now):
        if wanted:
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO waiting_plans (cause_event_id, veteran_id, kind,"
                    " cause_type, starts_on, enterprise_id, created_at) VALUES %s"
                    " ON CONFLICT DO NOTHING",
                    [
                        (
                            w.cause_event_id,
                            w.veteran_id,
                            w.kind,
                            w.cause_type,
                            w.starts_on,
                            w.enterprise_id,
                            now,
                        )
                        for w in wanted
                    ],
                    page_size=len(wanted),
                )

    def unpark(self, veteran_ids):
        """Takes the waiting plans of these veterans whose county followup now knows.
        → ``[Wanted]`` with the county."""
        if not veteran_ids:
            return []
        with self.cursor() as cur:
            cur.execute(
                "DELETE FROM waiting_plans w USING veterans v"
                " WHERE w.veteran_id = v.veteran_id AND w.veteran_id = ANY(%s::uuid[])"
                " RETURNING w.cause_event_id::text, w.cause_type, w.veteran_id::text,"
                " w.kind, w.starts_on, v.county_code, w.enterprise_id",
                (sorted(veteran_ids),),
            )
            return [Wanted(*row) for row in cur.fetchall()]

    def waiting(self):
        with self.cursor() as cur:
            cur.execute("SELECT count(*) FROM waiting_plans")
            return cur.fetchone()[0]

    # -- plans ----------------------------------------------------------------------------
    def add_revisits(self, revisits: list[Revisit]) -> list[Revisit]:
        """Insert planned revisits; → those that went in, as stored (a repeat of a plan is
        skipped)."""
        if not revisits:
            return []
        with self.dict_cursor() as cur:
            rows = psycopg2.extras.execute_values(
                cur,
                f"INSERT INTO revisits ({REVISIT_COLUMNS}) VALUES %s ON CONFLICT DO NOTHING"
                f" RETURNING {REVISIT_COLUMNS}",
                [astuple(revisit) for revisit in revisits],
                page_size=len(revisits),
                fetch=True,
            )
            return [_record(Revisit, row) for row in rows]

    # -- the scheduler --------------------------------------------------------------------
    def claim_due(self, instance, today, now, lease_seconds, limit):
        """Takes up to ``limit`` scheduled revisits whose day has come and that no live
        lease holds, in a transaction of its own (committed at once). → their ids."""
        conn = self.session.pool.get()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "UPDATE revisits SET claimed_by = %(me)s,"
                    " lease_until = %(now)s + make_interval(secs => %(lease)s)"
                    " WHERE id IN (SELECT id FROM revisits WHERE status = 'scheduled'"
                    "   AND due_on <= %(today)s AND (lease_until IS NULL OR lease_until < %(now)s)"
                    "   ORDER BY due_on, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
                    " RETURNING id",
                    {
                        "me": instance,
                        "now": now,
                        "lease": lease_seconds,
                        "today": today,
                        "limit": limit,
                    },
                )
                ids = [row[0] for row in cur.fetchall()]
            conn.commit()
        except BaseException:
            self.session.pool.put(conn, broken=True)  # closing it rolls back
            raise
        self.session.pool.put(conn)
        return ids

    def mark_due(self, instance, ids, now) -> list[Revisit]:
        """The claimed revisits become due, if this instance still holds them (a lease
        that ran out may have passed them to another). → the revisits changed."""
        if not ids:
            return []
        with self.dict_cursor() as cur:
            cur.execute(
                "UPDATE revisits SET status = 'due', due_at = %s, claimed_by = NULL,"
                " lease_until = NULL WHERE id = ANY(%s::uuid[]) AND claimed_by = %s"
                f" AND status = 'scheduled' RETURNING {REVISIT_COLUMNS}",
                (now, ids, instance),
            )
            return [_record(Revisit, row) for row in cur.fetchall()]

    def mark_overdue(self, cutoff, limit):
        """Due revisits whose day is before ``cutoff`` become overdue; rows another
        instance is changing are left to it (SKIP LOCKED: no waits, no deadlocks)."""
        with self.cursor() as cur:
            cur.execute(
                "UPDATE revisits SET status = 'overdue' WHERE id IN ("
                " SELECT id FROM revisits WHERE status = 'due' AND due_on < %s"
                " ORDER BY due_on, id LIMIT %s FOR UPDATE SKIP LOCKED)",
                (cutoff, limit),
            )
            return cur.rowcount

    # -- revisits -------------------------------------------------------------------------
    def revisit(self, revisit_id, lock=False) -> Revisit | None:
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {REVISIT_COLUMNS} FROM revisits WHERE id = %s"
                + (" FOR UPDATE" if lock else ""),
                (revisit_id,),
            )
            return _one(Revisit, cur.fetchone())

    def save_completion(self, revisit: Revisit) -> None:
        """A revisit done; a claim on it the scheduler still held is dropped."""
        with self.cursor() as cur:
            cur.execute(
                "UPDATE revisits SET status = %s, contacted_on = %s, outcome = %s,"
                " veteran_satisfaction = %s, employer_rating = %s, completed_at = %s,"
                " completed_by = %s, claimed_by = NULL, lease_until = NULL WHERE id = %s",
                (
                    revisit.status,
                    revisit.contacted_on,
                    revisit.outcome,
                    revisit.veteran_satisfaction,
                    revisit.employer_rating,
                    revisit.completed_at,
                    revisit.completed_by,
                    revisit.id,
                ),
            )

    def revisits(self, filters, counties, limit, offset) -> tuple[int, list[Revisit]]:
        where = [SCOPE]
        args = {"c": counties, "limit": limit, "offset": offset}
        for key, clause in (
            ("veteran_id", "veteran_id = %(veteran_id)s"),
            ("status", "status = %(status)s"),
            ("county_code", "county_code = %(county_code)s"),
            ("due_before", "due_on < %(due_before)s"),
        ):
            if filters.get(key) is not None:
                where.append(clause)
                args[key] = filters[key]
        clause = " WHERE " + " AND ".join(where)
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT count(*) AS n FROM revisits{clause}", args)
            total = cur.fetchone()["n"]
            cur.execute(
                f"SELECT {REVISIT_COLUMNS} FROM revisits{clause}"
                " ORDER BY due_on, id LIMIT %(limit)s OFFSET %(offset)s",
                args,
            )
            return total, [_record(Revisit, row) for row in cur.fetchall()]

    def worklist(self, county_code, as_of) -> list[Revisit]:
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {REVISIT_COLUMNS} FROM revisits"
                " WHERE county_code = %s AND status <> 'done' AND due_on <= %s"
                " ORDER BY due_on, id LIMIT 500",
                (county_code, as_of),
            )
            return [_record(Revisit, row) for row in cur.fetchall()]

    # -- issues and contacts --------------------------------------------------------------
    def add_issues(self, issues: Iterable[Issue]) -> None:
        with self.cursor() as cur:
            for issue in issues:
                insert(cur, "issues", as_dict(issue))

    def issue(self, issue_id, lock=False) -> Issue | None:
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {ISSUE_COLUMNS} FROM issues WHERE id = %s"
                + (" FOR UPDATE" if lock else ""),
                (issue_id,),
            )
            return _one(Issue, cur.fetchone())

    def save_resolution(self, issue: Issue) -> None:
        with self.cursor() as cur:
            cur.execute(
                "UPDATE issues SET status = %s, resolution = %s, resolved_at = %s,"
                " resolved_by = %s WHERE id = %s",
                (issue.status, issue.resolution, issue.resolved_at, issue.resolved_by, issue.id),
            )

    def add_contact(self, contact: Contact) -> None:
        with self.cursor() as cur:
            insert(cur, "contacts", as_dict(contact))

    # -- retention and statistics ---------------------------------------------------------
    def retention_inputs(self, counties):
        """Hires in the counties and, per veteran, (date, working?) signals from status
        changes and revisit outcomes."""
        args = {"c": counties}
        with self.cursor() as cur:
            cur.execute(f"SELECT veteran_id::text, started_on FROM hires WHERE {SCOPE}", args)
            hires = cur.fetchall()
            ids = sorted({v for v, _ in hires})
            cur.execute(
                "SELECT veteran_id::text, on_day, current FROM status_changes"
                " WHERE veteran_id = ANY(%s::uuid[])",
                (ids,),
            )
            changes = cur.fetchall()
            cur.execute(
                "SELECT veteran_id::text, contacted_on, outcome FROM revisits"
                " WHERE status = 'done' AND veteran_id = ANY(%s::uuid[])",
                (ids,),
            )
            outcomes = cur.fetchall()
        return hires, changes, outcomes

    def stats(self, counties, today, grace_cutoff):
        args = {"c": counties, "today": today, "cutoff": grace_cutoff}
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT count(*) AS scheduled,"
                " count(*) FILTER (WHERE status = 'done') AS done,"
                " count(*) FILTER (WHERE status <> 'done' AND due_on <= %(today)s"
                "   AND due_on >= %(cutoff)s) AS due,"
                " count(*) FILTER (WHERE status <> 'done' AND due_on < %(cutoff)s) AS overdue,"
                " avg(veteran_satisfaction) AS satisfaction,"
                f" avg(employer_rating) AS employer_rating FROM revisits WHERE {SCOPE}",
                args,
            )
            revisits = cur.fetchone()
            cur.execute(
                f"SELECT category, count(*) FILTER (WHERE status = 'open') AS open,"
                f" count(*) FILTER (WHERE status = 'resolved') AS resolved"
                f" FROM issues WHERE {SCOPE} GROUP BY category",
                args,
            )
            issues = {
                row["category"]: {"open": row["open"], "resolved": row["resolved"]}
                for row in cur.fetchall()
            }
            cur.execute(
                f"SELECT channel, count(*) AS n FROM contacts WHERE {SCOPE} GROUP BY channel", args
            )
            contacts = {row["channel"]: row["n"] for row in cur.fetchall()}
        return revisits, issues, contacts

    def revisits_by_month(self, counties, first_instant, end_instant, tz_name):
        """``{month: {revisits_done, satisfaction}}``: revisits completed from
        ``first_instant`` to before ``end_instant``, by the bureau's month of completion
        (``tz_name``), with their average veteran satisfaction."""
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {month_sql('completed_at')} AS month, count(*) AS revisits_done,"
                " avg(veteran_satisfaction) AS satisfaction FROM revisits"
                f" WHERE {SCOPE} AND status = 'done' AND completed_at >= %(first)s"
                " AND completed_at < %(end)s GROUP BY 1",
                {"c": counties, "first": first_instant, "end": end_instant, "tz": tz_name},
            )
            return {row.pop("month"): dict(row) for row in cur.fetchall()}
