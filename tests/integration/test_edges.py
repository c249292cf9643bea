"""The edges (#17 item 6) through real services on the real broker and database: a fair
dated year 9999, a revoked token, a token whose claim has the wrong type, and services
whose secrets are too short, which do not start."""

import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from services.jobs.service import JobsService
from services.registry.service import RegistryService
from shared import auth, denylist
from shared.errors import InvalidInput, Unauthorized
from tests.conftest import SECRET, token
from tests.factories import make_veteran
from tests.helpers import bureau_now, scalar, wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_a_fair_dated_year_9999_is_invalid_input_and_nothing_is_stored(start, rpc, db):
    start(JobsService)
    with pytest.raises(InvalidInput) as caught:
        rpc.jobs.schedule_fair(
            {
                "title": "招聘会",
                "county_code": "652301",
                "mode": "offline",
                "venue": "会展中心",
                "starts_at": "9999-12-31T23:59:59-14:00",
            }
        )
    assert list(caught.value.errors) == ["starts_at"]
    assert "9999" not in str(caught.value)  # the bounds are named, not the value
    assert scalar(db, "SELECT count(*) FROM jobs.fairs") == 0


def test_a_token_revoked_while_the_service_runs_is_unauthorized_within_the_bound(
    start, rpc_as, db, tmp_path
):
    deny_list = tmp_path / "token-deny-list"
    start(RegistryService, AUTH_DENY_LIST=str(deny_list))  # the file does not exist yet
    revoked, kept = token(operator="clerk-lost-laptop"), token(operator="clerk-other")
    with rpc_as(revoked) as proxy:
        assert proxy.registry.register_veteran(make_veteran())["id"]
    deny_list.write_text(f"# revoked tokens\n{auth.token_id(revoked)}  # laptop stolen\n")
    with rpc_as(revoked) as proxy:

        def refused():
            try:
                proxy.registry.search_veterans({})
            except Unauthorized as exc:
                assert str(exc) == "token revoked"
                return True
            return False

        wait_for(
            refused,
            timeout=denylist.CHECK_SECONDS + 2,
            interval=0.2,
            message="the revoked token refused (still accepted)",
        )
        with pytest.raises(Unauthorized, match="token revoked"):
            proxy.registry.register_veteran(make_veteran())
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 1
    with rpc_as(kept) as proxy:  # one token revoked, not the secret
        assert proxy.registry.search_veterans({})["total"] == 1


def test_a_signed_token_whose_exp_is_a_string_is_unauthorized(start, rpc_as):
    start(RegistryService)
    now = int(bureau_now().timestamp())  # epoch seconds
    claims = {"sub": "x", "role": "admin", "counties": ["*"], "iat": now, "exp": str(now + 3600)}
    with rpc_as(jwt.encode(claims, SECRET, algorithm="HS256")) as proxy:
        with pytest.raises(Unauthorized, match=r"^malformed token: exp "):
            proxy.registry.search_veterans({})


def test_a_service_with_a_short_token_secret_does_not_start(runner_factory, config):
    runner = runner_factory({**config, "AUTH_SECRETS": "short-secret"}, RegistryService)
    with pytest.raises(auth.SecretTooShort, match=r"VET_AUTH_SECRET.*32 bytes"):
        runner.start()


def test_jobs_with_a_short_bureau_secret_does_not_start(runner_factory, config):
    runner = runner_factory({**config, "BUREAU_HMAC_SECRETS": "bureau-shared-secret"}, JobsService)
    with pytest.raises(auth.SecretTooShort, match=r"BUREAU_HMAC_SECRET.*32 bytes"):
        runner.start()


@pytest.mark.parametrize(
    "variable, value, named",
    [
        ("VET_AUTH_SECRET", "change-me", "VET_AUTH_SECRET"),
        ("BUREAU_HMAC_SECRET", "change-me", "BUREAU_HMAC_SECRET"),
    ],
)
def test_nameko_run_exits_at_start_naming_the_setting_and_the_minimum(
    config, variable, value, named
):
    """As the container's entrypoint runs it (deploy/entrypoint.sh): the process ends at
    once, before any call, with one message saying which setting and how long."""
    env = {
        **os.environ,
        "AMQP_URI": config["AMQP_URI"],
        "DATABASE_URL": config["DATABASE_URL"],
        "VET_AUTH_SECRET": SECRET,
        "HEALTH_ADDRESS": "127.0.0.1:0",
        "WEB_SERVER_ADDRESS": "127.0.0.1:0",
        variable: value,
    }
    started = subprocess.run(
        [
            str(Path(sys.executable).parent / "nameko"),
            "run",
            "--config",
            "services/jobs/config.yaml",
            "services.jobs.service:JobsService",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert named in started.stderr and "32 bytes" in started.stderr
    assert value not in started.stderr
