"""The durable scheduler: two instances and 1,000 due revisits, each processed exactly once;
a claim left by a dead instance is taken over after its lease."""
import datetime as dt
import uuid

import eventlet
import psycopg2.extras
from nameko.testing.services import entrypoint_hook
from nameko.testing.utils import get_container

from services.followup.service import FollowupService
from tests.helpers import scalar
from tests.integration.followup.conftest import START, freeze


def plant(db, n, due_on=dt.date(2026, 11, 2)):
    rows = [(str(uuid.uuid4()), str(uuid.uuid4()), "652301", "employment", str(uuid.uuid4()),
             "veteran_hired", due_on, START) for _ in range(n)]
    with db.cursor() as cur:
        psycopg2.extras.execute_values(
            cur, "INSERT INTO followup.revisits (id, veteran_id, county_code, kind,"
            " cause_event_id, cause_type, due_on, created_at) VALUES %s", rows, page_size=1000)
    return [r[0] for r in rows]


def test_two_instances_process_each_of_1000_due_revisits_exactly_once(start, db):
    containers = [get_container(start(FollowupService, SCHEDULER_BATCH=50), FollowupService)
                  for _ in range(2)]
    for container in containers:
        freeze(container)
    ids = plant(db, 1000)
    done = {0: 0, 1: 0}

    def drain(index):
        idle = 0
        while idle < 3:
            with entrypoint_hook(containers[index], "run_scheduler") as scheduler:
                taken = scheduler()
            done[index] += taken
            idle = idle + 1 if taken == 0 else 0

    for thread in [eventlet.spawn(drain, 0), eventlet.spawn(drain, 1)]:
        thread.wait()
    assert done[0] + done[1] == 1000
    assert done[0] > 0 and done[1] > 0  # both took part
    assert scalar(db, "SELECT count(*) FROM followup.revisits WHERE status = 'due'") == 1000
    with db.cursor() as cur:
        cur.execute("SELECT body->'data'->>'revisit_id', count(*) FROM followup.outbox"
                    " WHERE routing_key = 'revisit_due' GROUP BY 1")
        announced = dict(cur.fetchall())
    assert set(announced) == set(ids)
    assert set(announced.values()) == {1}


def test_a_dead_instances_claim_is_taken_over_after_its_lease(start, db):
    container = get_container(start(FollowupService, SCHEDULER_LEASE_SECONDS=60),
                              FollowupService)
    clock = freeze(container)
    plant(db, 10)
    with db.cursor() as cur:  # claimed by an instance that died before marking them due
        cur.execute("UPDATE followup.revisits SET claimed_by = 'dead:1',"
                    " lease_until = %s", (START + dt.timedelta(seconds=60),))
    with entrypoint_hook(container, "run_scheduler") as scheduler:
        assert scheduler() == 0
    clock.move(seconds=61)
    with entrypoint_hook(container, "run_scheduler") as scheduler:
        assert scheduler() == 10
    assert scalar(db, "SELECT count(*) FROM followup.outbox WHERE routing_key = 'revisit_due'") == 10
    assert scalar(db, "SELECT count(*) FROM followup.revisits WHERE claimed_by IS NOT NULL") == 0
