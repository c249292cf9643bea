"""jobs' SQL for the employment bureau's HTTP integration (services/jobs/bureau.py): the
signatures taken once, the bureau's postings by its own id, and placements."""

from psycopg2 import errors as pg_errors

from services.jobs.bureau_domain import Placement, Revision
from services.jobs.domain import Posting
from services.jobs.records_store import POSTING_COLUMNS, posting_from, select
from shared.db import DatabaseUnavailable, Store


class BureauStore(Store):
    def lock_bureau_batches(self) -> None:
        """One bureau batch at a time, until this transaction ends. Two batches naming the
        same new posting id would both insert it; two creating the same employers in
        another order would wait on each other. The bureau sends one batch at a time
        anyway, so serialising costs it nothing."""
        with self.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('jobs:bureau-postings'))")

    def bureau_posting(self, bureau_posting_id, lock=False) -> tuple[Posting, str | None] | None:
        """The posting the bureau sent under this id, with its employer's credit code;
        ``lock`` holds the row against concurrent hires until the transaction ends."""
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {select(POSTING_COLUMNS, 'p.')}, e.uscc AS employer_uscc"
                " FROM postings p JOIN employers e ON e.id = p.employer_id"
                " WHERE p.bureau_posting_id = %s" + (" FOR UPDATE OF p" if lock else ""),
                (bureau_posting_id,),
            )
            row = cur.fetchone()
        return (posting_from(row), row["employer_uscc"]) if row else None

    def save_revision(self, posting: Posting, revision: Revision, now) -> None:
        """Records the bureau's version of the posting and its changes, if any (then
        ``updated_at`` too), and closes it when the revision fills it."""
        if revision.version is None:
            return
        assert set(revision.changes) <= set(POSTING_COLUMNS)
        columns = {**revision.changes, "bureau_version": revision.version}
        if revision.changes:
            columns["updated_at"] = now
        sets = ", ".join(f"{column} = %s" for column in columns)
        with self.cursor() as cur:
            cur.execute(
                f"UPDATE postings SET {sets} WHERE id = %s", [*columns.values(), posting.id]
            )
            if revision.closes:  # open when read, and locked since: this closes it
                cur.execute(
                    "UPDATE postings SET status = 'closed', closed_reason = 'filled',"
                    " closed_at = %s, updated_at = %s WHERE id = %s AND status = 'open'",
                    (now, now, posting.id),
                )

    def placements(self, since, limit) -> list[Placement]:
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
                    " ORDER BY h.seq LIMIT %s",
                    (since, limit),
                )
                rows = cur.fetchall()
        except pg_errors.LockNotAvailable:
            raise DatabaseUnavailable("hires are being written; ask again") from None
        return [
            Placement(
                **{
                    **row,
                    "application_id": str(row["application_id"]),
                    "veteran_id": str(row["veteran_id"]),
                    "posting_id": str(row["posting_id"]),
                }
            )
            for row in rows
        ]
