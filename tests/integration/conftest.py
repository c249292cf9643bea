import pytest
from nameko.standalone.rpc import ClusterRpcProxy


@pytest.fixture
def start(runner_factory, config):
    """Start services on the real broker and database: ``start(RegistryService, ...)``."""

    def start_services(*classes, **overrides):
        runner = runner_factory({**config, **overrides}, *classes)
        runner.start()
        return runner

    return start_services


@pytest.fixture
def rpc(config, admin_token):
    """An RPC client carrying an admin's token."""
    with ClusterRpcProxy(config, timeout=15, context_data={"auth_token": admin_token}) as proxy:
        yield proxy


@pytest.fixture
def rpc_as(config):
    """``with rpc_as(token) as proxy:`` an RPC client carrying that token (or none)."""

    def client(token=None):
        context = {"auth_token": token} if token is not None else {}
        return ClusterRpcProxy(config, timeout=15, context_data=context)

    return client
