"""vetctl against the running services: every service started on the real servers (the
test's vhost and database), and ``vetctl(*args)`` running a command in-process the way the
console script does, with the test's AMQP_URI and an admin token."""

import importlib.util

import pytest
from click.testing import CliRunner

from services.jobs.service import JobsService
from services.loans.service import LoansService
from services.registry.service import RegistryService
from services.training.service import TrainingService
from vetctl.main import cli


def service_classes():
    classes = [RegistryService, LoansService, JobsService, TrainingService]
    if importlib.util.find_spec("services.followup.service") is not None:
        from services.followup.service import FollowupService

        classes.append(FollowupService)
    return classes


@pytest.fixture
def system(start):
    return start(*service_classes())


@pytest.fixture
def vetctl(config, admin_token, monkeypatch):
    monkeypatch.setenv("AMQP_URI", config["AMQP_URI"])
    monkeypatch.setenv("VETCTL_TOKEN", admin_token)

    def run(*args, expect=0):
        result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == expect, result.output
        # What a script would read: standard output on success, the reason on failure.
        return result.stdout if expect == 0 else result.output

    return run
