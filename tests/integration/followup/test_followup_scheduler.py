"""The durable scheduler: two instances and 1,000 due revisits, each processed exactly once
(ticked by hand, and by the instances' own timers); a claim left by a dead instance is
taken over after its lease and never announced twice."""

import datetime as dt
import uuid

import eventlet
import psycopg2.extras
from nameko.testing.utils import get_container, get_extension

from services.followup.service import FollowupService
from services.followup.store import FollowupStore
from shared.db import Database, Session
from tests.helpers import scalar, wait_for
from tests.integration.followup.conftest import QUIET, START, freeze, tick_once


def plant(db, n, due_on=dt.date(2026, 11, 2)):
    rows = [
        (
            str(uuid.uuid4()),
            str(uuid.uuid4()),
            "652301",
            "employment",
            str(uuid.uuid4()),
            "veteran_hired",
            due_on,
            START,
        )
        for _ in range(n)
    ]
    with db.cursor() as cur:
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO followup.revisits (id, veteran_id, county_code, kind,"
            " cause_event_id, cause_type, due_on, created_at) VALUES %s",
            rows,
            page_size=1000,
        )
    return [r[0] for r in rows]


def announcements(db):
    """revisit_due outbox rows per revisit."""
    with db.cursor() as cur:
        cur.execute(
            "SELECT body->'data'->>'revisit_id', count(*) FROM followup.outbox"
            " WHERE routing_key = 'revisit_due' GROUP BY 1"
        )
        return dict(cur.fetchall())


def two_instances(start, **config):
    containers = [
        get_container(start(FollowupService, **config), FollowupService) for _ in range(2)
    ]
    for container in containers:
        freeze(container)
    return containers


def test_two_instances_process_each_of_1000_due_revisits_exactly_once(start, db):
    containers = two_instances(start, SCHEDULER_BATCH=50, **QUIET)
    ids = plant(db, 1000)
    done = {0: 0, 1: 0}

    def drain(index):
        idle = 0
        while idle < 3:
            taken = tick_once(containers[index])
            done[index] += taken
            idle = idle + 1 if taken == 0 else 0

    for thread in [eventlet.spawn(drain, 0), eventlet.spawn(drain, 1)]:
        thread.wait()
    assert done[0] + done[1] == 1000
    assert done[0] > 0 and done[1] > 0  # both took part
    assert scalar(db, "SELECT count(*) FROM followup.revisits WHERE status = 'due'") == 1000
    announced = announcements(db)
    assert set(announced) == set(ids)
    assert set(announced.values()) == {1}


def test_the_instances_own_timers_drain_a_backlog_once_each(start, db):
    # Ticks every 50 ms; a full batch (50) makes the next tick follow at once.
    two_instances(start, SCHEDULER_BATCH=50, SCHEDULER_INTERVAL=0.05)
    ids = plant(db, 1000)
    wait_for(
        lambda: scalar(db, "SELECT count(*) FROM followup.revisits WHERE status = 'due'") == 1000,
        timeout=30,
        message="1,000 revisits due",
    )
    announced = announcements(db)
    assert set(announced) == set(ids)
    assert set(announced.values()) == {1}
    assert scalar(db, "SELECT count(*) FROM followup.revisits WHERE claimed_by IS NOT NULL") == 0


def test_a_dead_instances_claim_is_taken_over_after_its_lease(start, db):
    container = get_container(
        start(FollowupService, SCHEDULER_LEASE_SECONDS=60, **QUIET), FollowupService
    )
    clock = freeze(container)
    plant(db, 10)
    with db.cursor() as cur:  # claimed by an instance that died before marking them due
        cur.execute(
            "UPDATE followup.revisits SET claimed_by = 'dead:1', lease_until = %s",
            (START + dt.timedelta(seconds=60),),
        )
    assert tick_once(container) == 0
    clock.move(seconds=61)
    assert tick_once(container) == 10
    assert tick_once(container) == 0
    assert announcements(db) and set(announcements(db).values()) == {1}
    assert len(announcements(db)) == 10
    assert scalar(db, "SELECT count(*) FROM followup.revisits WHERE claimed_by IS NOT NULL") == 0


def test_an_instance_that_lost_its_lease_cannot_mark_the_revisit_due(start, db):
    container = get_container(start(FollowupService, **QUIET), FollowupService)
    [revisit_id] = plant(db, 1)
    with db.cursor() as cur:  # the slow instance's claim has run out
        cur.execute(
            "UPDATE followup.revisits SET claimed_by = 'slow:1', lease_until = %s",
            (START - dt.timedelta(seconds=1),),
        )
    pool = get_extension(container, Database).pool

    def store():
        return FollowupStore(Session(pool, None), "followup")

    other = store()
    assert other.claim_due("other:2", START.date(), START, 60, 10) == [uuid.UUID(revisit_id)]
    slow = store()
    assert slow.mark_due("slow:1", [revisit_id], START) == []  # no longer its own
    slow.session.finish(None)
    slow.session.close()
    [row] = other.mark_due("other:2", [revisit_id], START)
    assert row.id == revisit_id
    other.session.finish(None)
    other.session.close()
    assert scalar(db, "SELECT status FROM followup.revisits") == "due"


def test_a_full_batch_makes_the_timer_tick_again_at_once(start, db):
    # 100 revisits, 10 a tick, a tick a second when idle: one batch per interval would
    # take ten seconds; draining back to back takes one interval and a little more.
    container = get_container(
        start(FollowupService, SCHEDULER_BATCH=10, SCHEDULER_INTERVAL=1), FollowupService
    )
    freeze(container)
    plant(db, 100)
    wait_for(
        lambda: scalar(db, "SELECT count(*) FROM followup.revisits WHERE status = 'due'") == 100,
        timeout=4,
        message="100 revisits due within 4 s",
    )
    assert set(announcements(db).values()) == {1}
