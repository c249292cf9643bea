"""The deploy checks' world: the image `make deploy-check` built (DEPLOY_IMAGE), its Docker
engine (DOCKER_HOST), and a vhost, broker logins and database of their own on this
machine's RabbitMQ and PostgreSQL, removed afterwards. Without DEPLOY_IMAGE the tests that
run the image are skipped: plain `make test` needs no Docker."""

import secrets
from pathlib import Path

import psycopg2
import pytest
from deploy_support import (
    ADMIN_DATABASE_URL,
    DATABASE,
    DEPLOY,
    IMAGE,
    PREFIX,
    USERS,
    VHOST,
    rabbitmqctl,
)

# The checks that run the image on a Docker engine; the others (manifests, Prometheus
# rules) need only files and pinned tools and run in plain `make test` too.
NEEDS_AN_IMAGE = {"test_image.py", "test_compose.py"}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.deploy)
            if not IMAGE and Path(item.fspath).name in NEEDS_AN_IMAGE:
                item.add_marker(pytest.mark.skip(reason="needs an image: run `make deploy-check`"))


def _drop_broker_state():
    rabbitmqctl("delete_vhost", VHOST, check=False)
    listed = rabbitmqctl("list_users", check=False).stdout.splitlines()
    for line in listed:
        login = line.split("\t")[0]
        if login.startswith(PREFIX):
            rabbitmqctl("delete_user", login, check=False)


def _database(statement):
    conn = psycopg2.connect(ADMIN_DATABASE_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(statement)
    conn.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """Settings shared by the image and Compose checks: {vhost, prefix, database_url,
    passwords, env_file} (the env file is deploy/example.env with this run's values)."""
    _drop_broker_state()  # a crashed run's leftovers
    _database(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    _database(f'CREATE DATABASE "{DATABASE}"')
    passwords = {user: secrets.token_urlsafe(18) for user in USERS}
    values = {
        "IMAGE": IMAGE,
        "BROKER_VHOST": VHOST,
        "BROKER_USER_PREFIX": PREFIX,
        "POSTGRES_DB": DATABASE,
        "VET_AUTH_SECRET": secrets.token_urlsafe(36),
        **{f"BROKER_PASSWORD_{user.upper()}": pw for user, pw in passwords.items()},
    }
    lines = []
    for line in (DEPLOY / "example.env").read_text().splitlines():
        key = line.split("=", 1)[0]
        if "=" in line and not line.startswith("#"):
            # A placeholder becomes a random value: 48 characters for a secret (services
            # refuse one under 32 bytes), 16 for a password.
            made = secrets.token_urlsafe(36 if "SECRET" in key else 12)
            given = made if line.endswith("change-me") else line.split("=", 1)[1]
            line = f"{key}={values.get(key, given)}"
        lines.append(line)
    env_file = tmp_path_factory.mktemp("deploy") / "check.env"
    env_file.write_text("\n".join(lines) + "\n")
    try:
        yield {
            "vhost": VHOST,
            "prefix": PREFIX,
            "passwords": passwords,
            "env_file": env_file,
            "database_url": f"postgresql://postgres@127.0.0.1:5432/{DATABASE}",
            "auth_secret": values["VET_AUTH_SECRET"],
        }
    finally:
        _drop_broker_state()
        _database(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
