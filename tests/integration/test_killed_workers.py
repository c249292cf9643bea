"""A container killed (or stopped past its workers) with a worker mid-transaction leaves no
transaction open: its connection is closed with the container, so its locks go at once,
not whenever the garbage collector reaches it. Seen before: a killed batch handler's
connection stayed "idle in transaction" and the next TRUNCATE waited forever."""

import eventlet
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.utils import get_container

from services.registry.service import RegistryService
from shared.messaging import rpc
from tests.helpers import wait_for

KEY = 20_261_208


class LockingRegistry(RegistryService):
    @rpc(public=True)
    def hold(self, key, seconds):
        with self.store.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
        eventlet.sleep(seconds)  # killed here, inside the transaction
        return key


def held(db):
    with db.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted",
            (KEY,),
        )
        return cur.fetchone()[0]


def open_transactions(db):
    with db.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'veteran-services:registry'"
            " AND state LIKE 'idle in transaction%%'"
        )
        return cur.fetchone()[0]


def test_a_killed_worker_leaves_no_transaction_open(start, config, db):
    container = get_container(start(LockingRegistry), LockingRegistry)
    with ClusterRpcProxy(config, timeout=30) as proxy:
        proxy.registry.hold.call_async(KEY, 60)
        wait_for(lambda: held(db) == 1, timeout=20, message="the worker holds its lock")
        container.kill()
    assert held(db) == 0
    assert open_transactions(db) == 0
