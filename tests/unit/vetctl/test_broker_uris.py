"""Broker URIs as vetctl builds them, for one node and for a failover list of nodes."""

from vetctl.broker import vhost_of, with_credentials
from vetctl.bus import management

CLUSTER = (
    "pyamqp://vs-admin:s3cret@127.0.0.1:5701/prefecture;"
    "pyamqp://vs-admin:s3cret@127.0.0.1:5702/prefecture;"
    "pyamqp://vs-admin:s3cret@127.0.0.1:5703/prefecture"
)


def test_one_node_gets_the_users_login_and_keeps_host_port_and_vhost():
    assert (
        with_credentials("pyamqp://guest:guest@127.0.0.1:5672//", "registry", "p/w")
        == "pyamqp://registry:p%2Fw@127.0.0.1:5672//"
    )
    assert vhost_of("pyamqp://guest:guest@127.0.0.1:5672//") == "/"


def test_every_node_of_a_failover_list_gets_the_users_login():
    uri = with_credentials(CLUSTER, "registry", "pw")
    assert uri.split(";") == [
        f"pyamqp://registry:pw@127.0.0.1:{port}/prefecture" for port in (5701, 5702, 5703)
    ]
    assert "s3cret" not in uri and "vs-admin" not in uri
    assert vhost_of(CLUSTER) == "prefecture"


def test_the_management_api_is_the_first_nodes(monkeypatch):
    monkeypatch.delenv("RABBIT_API", raising=False)
    base, auth, vhost = management(CLUSTER)
    assert (base, auth, vhost) == (
        "http://127.0.0.1:15672/api",
        ("vs-admin", "s3cret"),
        "prefecture",
    )
