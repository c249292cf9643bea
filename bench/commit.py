"""Benchmark case ``commit``: what it costs a transaction that its session learns its
id before COMMIT (``pg_current_xact_id_if_assigned``, so that a COMMIT whose connection is
lost can be resolved by ``pg_xact_status``). Transactions of one INSERT through
``shared.db.Session``, as every worker's, against the same sessions without the lookup,
in alternating rounds of the same run; prints µs per transaction for both.

    python bench/bench.py --case commit [-n 3000]

Runs against a database ``veteran_bench_commit`` of its own, made anew."""

import time

import psycopg2

from bench.common import fresh_database
from shared.db import ConnectionPool, Session

NAME = "veteran_bench_commit"
ROUNDS = 6


class WithoutLookup(Session):
    """The session as it was: COMMIT without learning the transaction's id first."""

    def _xid(self):
        return None


def notes_database():
    url = fresh_database(NAME)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE notes (id bigserial PRIMARY KEY, note text NOT NULL)")
    conn.close()
    return url


def transactions(pool, session_cls, n):
    """Seconds for ``n`` one-INSERT transactions, each a worker's session."""
    began = time.perf_counter()
    for i in range(n):
        session = session_cls(pool, None)
        with session.cursor() as cur:
            cur.execute("INSERT INTO notes (note) VALUES (%s)", (f"note {i}",))
        assert session.finish(None) is None
        session.close()
    return time.perf_counter() - began


def run(args):
    url = notes_database()
    n = max(args.n // ROUNDS, 100)
    pool = ConnectionPool(url, "public", size=2)
    try:
        transactions(pool, Session, 100)  # warm: the connection, the plans
        spent = {Session: 0.0, WithoutLookup: 0.0}
        for round_ in range(ROUNDS):  # alternating, so drift falls on both alike
            for cls in (Session, WithoutLookup) if round_ % 2 else (WithoutLookup, Session):
                spent[cls] += transactions(pool, cls, n)
    finally:
        pool.close()
    total = n * ROUNDS
    with_us, without_us = (spent[cls] / total * 1e6 for cls in (Session, WithoutLookup))
    print(f"bench: commit, {total} one-INSERT transactions each way, {ROUNDS} alternating rounds")
    print(f"  without the id lookup (baseline): {without_us:8.1f} µs per transaction")
    print(
        f"  with the id lookup              : {with_us:8.1f} µs per transaction"
        f"   ({with_us - without_us:+.1f} µs, {with_us / without_us - 1:+.1%})"
    )
