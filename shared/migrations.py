"""Numbered SQL migrations, applied in order into one service's own schema and recorded
in ``<schema>.schema_migrations``. The messaging tables every service has (outbox, inbox)
come first from ``shared/migrations/``; then the service's own ``migrations/NNN_*.sql``."""

from pathlib import Path

import psycopg2
import structlog

log = structlog.get_logger(__name__)
SHARED_DIR = Path(__file__).resolve().parent / "migrations"


def pending(applied, directories):
    for prefix, directory in directories:
        for path in sorted(Path(directory).glob("*.sql")):
            version = f"{prefix}{path.stem}"
            if version not in applied:
                yield version, path


def apply(dsn, schema, directory):
    """Apply what is missing; safe to run from several processes at once."""
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            # One migrator per schema at a time; the others wait, then find nothing to do.
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"migrate:{schema}",))
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            cur.execute(f'SET LOCAL search_path TO "{schema}", public')
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur.execute("SELECT version FROM schema_migrations")
            applied = {row[0] for row in cur.fetchall()}
            done = []
            for version, path in pending(applied, [("shared:", SHARED_DIR), ("", directory)]):
                cur.execute(path.read_text(encoding="utf-8").replace("{schema}", schema))
                cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                done.append(version)
        if done:
            log.info("migrations.applied", schema=schema, versions=done)
        return done
    finally:
        conn.close()
