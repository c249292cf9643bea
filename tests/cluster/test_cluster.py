"""The local cluster `make cluster-up` starts (scripts/cluster.sh): three RabbitMQ nodes in
one cluster behind a failover URL list, a PostgreSQL primary with a streaming replica
behind a multi-host URL. Skipped unless CLUSTER_UP=1 (`make cluster-check` sets it and
takes the cluster down afterwards: these tests kill a node and promote the replica)."""

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import kombu
import psycopg2
import pytest
import requests

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        os.environ.get("CLUSTER_UP") != "1",
        reason="needs the local cluster: run `make cluster-check`",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
DIR = ROOT / ".local" / "cluster"
NODES = {"rabbit-a@localhost": 1, "rabbit-b@localhost": 2, "rabbit-c@localhost": 3}
PRIMARY_PORT, REPLICA_PORT = 5441, 5442
MULTI_HOST_URL = (
    f"postgresql://postgres@127.0.0.1:{PRIMARY_PORT},127.0.0.1:{REPLICA_PORT}"
    "/root?target_session_attrs=read-write"
)


def admin():
    return ("vs-admin", (DIR / "admin.password").read_text().strip())


def failover_url():
    user, password = admin()
    return ";".join(f"pyamqp://{user}:{password}@127.0.0.1:{5700 + i}//" for i in NODES.values())


def api(path, node="rabbit-a@localhost"):
    response = requests.get(
        f"http://127.0.0.1:{15700 + NODES[node]}/api/{path}", auth=admin(), timeout=5
    )
    response.raise_for_status()
    return response.json()


def node_pid(node):
    short = node.split("@")[0]  # rabbit-a
    return int((DIR / short / "pid").read_text().strip())


def pg(port, sql, dbname="root"):
    with (
        psycopg2.connect(
            host="127.0.0.1", port=port, user="postgres", dbname=dbname, connect_timeout=5
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute(sql)
        return cur.fetchall() if cur.description else None


def eventually(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except Exception:
            if time.monotonic() >= deadline:
                raise
        if time.monotonic() >= deadline:
            return result
        time.sleep(0.3)


@pytest.fixture
def quorum_queue():
    name = f"cluster-test-{uuid.uuid4().hex[:8]}"
    queue = kombu.Queue(
        name,
        exchange="",
        routing_key=name,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )
    yield queue
    with kombu.Connection(failover_url(), connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=3)
        conn.default_channel.queue_delete(name)


def test_three_running_nodes_form_one_cluster():
    for asked in NODES:  # each node sees the same three, all running
        nodes = api("nodes", asked)
        assert sorted(n["name"] for n in nodes) == sorted(NODES)
        assert all(n["running"] for n in nodes)
        assert api("overview", asked)["cluster_name"] == "vs-local"


def test_cluster_is_not_the_machines_node():
    ours = (DIR / "home" / ".erlang.cookie").read_text()
    main = Path("/var/lib/rabbitmq/.erlang.cookie")
    if main.exists():
        assert ours != main.read_text()
    assert "rabbit@localhost" not in {n["name"] for n in api("nodes")}


def test_a_clients_reply_queue_can_be_made_again_after_its_node_dies():
    """shared.rpc_client's exclusive reply queue is redeclared on a live node (what a proxy
    does when it reconnects); nameko's own durable one is refused there with 404."""
    from amqp.exceptions import NotFound
    from nameko.standalone.rpc import ClusterRpcProxy

    from shared.rpc_client import cluster_proxy

    config = {"AMQP_URI": failover_url()}
    ours, plain = cluster_proxy(config, timeout=5), ClusterRpcProxy(config, timeout=5)
    ours.start()
    plain.start()
    queues = {"ours": ours._reply_listener.queue, "plain": plain._reply_listener.queue}
    try:
        homes = {k: api(f"queues/%2F/{q.name}")["node"] for k, q in queues.items()}
        assert homes["ours"] == homes["plain"]  # both on the node the clients talk to
        assert api(f"queues/%2F/{queues['ours'].name}")["exclusive"] is True
        os.kill(node_pid(homes["ours"]), signal.SIGKILL)
        with kombu.Connection(failover_url(), connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=6, interval_start=0, interval_step=0.5)
            with pytest.raises(NotFound, match="home node"):
                queues["plain"].bind(conn.channel()).declare()
            queues["ours"].bind(conn.channel()).declare()
            survivor = next(n for n in NODES if n != homes["ours"])
            assert api(f"queues/%2F/{queues['ours'].name}", survivor)["node"] != homes["ours"]
    finally:
        for proxy in (ours, plain):
            try:
                proxy.stop()
            except Exception:  # its connection died with the node
                pass
        subprocess.run(
            [str(ROOT / "scripts" / "cluster.sh"), "up"],
            check=True,
            capture_output=True,
            timeout=300,
        )  # the killed node back, rejoined


def test_confirmed_message_in_a_quorum_queue_survives_kill_of_its_leader(quorum_queue):
    with kombu.Connection(
        failover_url(), connect_timeout=3, transport_options={"confirm_publish": True}
    ) as conn:
        conn.ensure_connection(max_retries=3)
        # confirm_publish: publish returns only once the broker confirmed (raises if nacked)
        conn.Producer().publish(
            {"n": 1},
            routing_key=quorum_queue.name,
            declare=[quorum_queue],
            serializer="json",
            delivery_mode=2,
        )
    info = api(f"queues/%2F/{quorum_queue.name}")
    assert sorted(info["members"]) == sorted(NODES)
    leader = info["leader"]

    os.kill(node_pid(leader), signal.SIGKILL)
    survivor = next(n for n in NODES if n != leader)
    eventually(
        lambda: (
            api(f"queues/%2F/{quorum_queue.name}", survivor).get("leader") not in (None, leader)
        ),
        timeout=30,
    )

    # The URL list skips the dead node (the first one tried may be it).
    with kombu.Connection(failover_url(), connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=6, interval_start=0, interval_step=0.5)
        assert conn.connection.sock.getpeername()[1] != 5700 + NODES[leader]
        message = eventually(lambda: conn.SimpleQueue(quorum_queue).get(timeout=2), timeout=20)
        assert message.payload == {"n": 1}
        message.ack()


def test_replica_is_in_recovery_and_streams_a_row_written_on_the_primary():
    assert pg(PRIMARY_PORT, "SELECT pg_is_in_recovery()") == [(False,)]
    assert pg(REPLICA_PORT, "SELECT pg_is_in_recovery()") == [(True,)]
    marker = uuid.uuid4().hex
    pg(PRIMARY_PORT, "CREATE TABLE IF NOT EXISTS cluster_probe (marker text)")
    pg(PRIMARY_PORT, f"INSERT INTO cluster_probe VALUES ('{marker}')")
    assert eventually(
        lambda: pg(REPLICA_PORT, f"SELECT 1 FROM cluster_probe WHERE marker = '{marker}'")
    )


def test_multi_host_url_lands_on_the_primary():
    with psycopg2.connect(MULTI_HOST_URL, connect_timeout=5) as conn, conn.cursor() as cur:
        cur.execute("SELECT inet_server_port(), pg_is_in_recovery()")
        assert cur.fetchone() == (PRIMARY_PORT, False)


def test_after_promotion_the_multi_host_url_finds_the_promoted_replica():
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "vs-primary", "stop", "-m", "fast"],
        check=True,
    )
    subprocess.run(["pg_ctlcluster", "15", "vs-replica", "promote"], check=True)
    assert eventually(lambda: pg(REPLICA_PORT, "SELECT NOT pg_is_in_recovery()")[0][0])
    with psycopg2.connect(MULTI_HOST_URL, connect_timeout=5) as conn, conn.cursor() as cur:
        cur.execute("SELECT inet_server_port(), pg_is_in_recovery()")
        assert cur.fetchone() == (REPLICA_PORT, False)
        cur.execute("INSERT INTO cluster_probe VALUES ('after-promotion')")


def test_up_after_a_failover_makes_the_pair_anew():
    # (runs after the promotion above: a run that stops there leaves the replica a primary,
    # and the next `cluster.sh up`, here or in another checkout, must not keep it)
    assert pg(REPLICA_PORT, "SELECT pg_is_in_recovery()") == [(False,)]
    result = subprocess.run(
        [str(ROOT / "scripts" / "cluster.sh"), "up"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "making them anew" in result.stdout
    assert pg(PRIMARY_PORT, "SELECT pg_is_in_recovery()") == [(False,)]
    assert pg(REPLICA_PORT, "SELECT pg_is_in_recovery()") == [(True,)]
    with psycopg2.connect(MULTI_HOST_URL, connect_timeout=5) as conn, conn.cursor() as cur:
        cur.execute("SELECT inet_server_port()")
        assert cur.fetchone() == (PRIMARY_PORT,)
