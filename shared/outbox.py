"""The outbox: events are rows written in the business transaction, published later by
the relay (``shared.relay``). A ``NOTIFY`` in the same transaction (sent by a trigger on
the table) wakes the relay on commit and never on rollback."""

import json
import uuid

import eventlet
import psycopg2.extras

from shared import contracts
from shared.clock import bureau_clock

# Envelopes between yields to the process's other green threads: each is dumped and checked
# through its contract (~0.2 ms), so a bulk batch's 1,000 held /readyz and every other call
# of the process off for 200+ ms in one stretch.
YIELD_EVERY = 50


def channel(schema):
    # Must match the trigger in shared/migrations/002_outbox_notify.sql.
    return f"outbox_{schema}"


def append(store, events):
    """Returns the envelopes written, in order (their event ids name them)."""
    if not events:
        return []
    session = store.session
    now = (session.clock or bureau_clock()).now()
    rows, envelopes = [], []
    for position, event in enumerate(events):
        if position and position % YIELD_EVERY == 0:
            eventlet.sleep(0)
        envelope = contracts.envelope(store.service, event, session.correlation_id, now)
        envelopes.append(envelope)
        rows.append(
            (
                uuid.UUID(envelope["event_id"]),
                f"{store.service}.events",
                event.type,
                json.dumps(envelope, ensure_ascii=False),
                session.correlation_id,
            )
        )
    with store.cursor() as cur:
        # One statement for all rows; its trigger sends the NOTIFY (002_outbox_notify.sql).
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO outbox (event_id, exchange, routing_key, body, correlation_id) VALUES %s",
            rows,
            page_size=len(rows),
        )
    return envelopes


def backlog(store):
    with store.cursor() as cur:
        cur.execute(
            "SELECT count(*), extract(epoch FROM now() - min(created_at))"
            " FROM outbox WHERE published_at IS NULL"
        )
        count, age = cur.fetchone()
    return {"outbox_backlog": count, "outbox_oldest_seconds": round(age or 0.0, 3)}
