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
def rpc(config):
    with ClusterRpcProxy(config, timeout=15) as proxy:
        yield proxy
