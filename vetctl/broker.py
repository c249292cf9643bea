"""``vetctl broker init``: the broker's vhost, exchanges, users and permissions made to match
``shared/data/broker_access.yaml`` through RabbitMQ's management API (idempotent: run it
at every start), and the AMQP URIs the services and vetctl then connect with.

The bootstrap identity (an administrator: ``guest`` on a developer's machine, the
operator's default user in a cluster) is ``BROKER_ADMIN_URI``, else ``AMQP_URI``, else
registry's configured URI. Passwords: ``BROKER_PASSWORD_<USER>`` when set (a deployment's
secret), else the one kept in ``.local/broker/<login>.password`` (made on first use, mode
0600). ``BROKER_USER_PREFIX`` prefixes every login (deployments sharing a broker)."""

import os
import secrets
from urllib.parse import quote, unquote, urlparse

from shared import broker_access
from shared.config import amqp_uri, service_config
from vetctl.client import LOCAL, Failure

PASSWORD_DIR = LOCAL / "broker"


def admin_uri():
    return (
        os.environ.get("BROKER_ADMIN_URI")
        or os.environ.get("AMQP_URI")
        or amqp_uri(service_config("registry"))
    )


def prefix():
    return os.environ.get("BROKER_USER_PREFIX", "")


def _parts(uri):
    return urlparse(uri.replace("pyamqp://", "amqp://", 1))


def first_node(uri):
    """The first of a failover list (``amqp://a;amqp://b``, as kombu takes it)."""
    return uri.split(";", 1)[0].strip()


def vhost_of(uri):
    path = _parts(first_node(uri)).path
    return unquote(path[1:]) if path and path != "/" else "/"


def with_credentials(uri, login, password):
    """``uri`` with another user's login and password (hosts, ports and vhost kept), on
    every node of a failover list."""
    return ";".join(
        _one_with_credentials(part.strip(), login, password)
        for part in uri.split(";")
        if part.strip()
    )


def _one_with_credentials(uri, login, password):
    scheme = uri.split("://", 1)[0]
    parts = _parts(uri)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(login, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{parts.path or '/'}{query}"


def _password_file(login, directory=None):
    return (directory or PASSWORD_DIR) / f"{login}.password"


def known_password(user, login, directory=None):
    """The password of a table user, from its env var or its file; None if not made yet."""
    env = os.environ.get(f"BROKER_PASSWORD_{user.upper()}")
    if env:
        return env
    path = _password_file(login, directory)
    return path.read_text().strip() if path.exists() else None


def password(user, login, directory=None):
    found = known_password(user, login, directory)
    if found:
        return found
    path = _password_file(login, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    made = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(made + "\n")
    return made


def user_uri(user, base=None, directory=None):
    """The AMQP URI a table user connects with, or None before ``broker init`` made it."""
    base = base or admin_uri()
    login = broker_access.user_name(user, prefix())
    found = known_password(user, login, directory)
    return with_credentials(base, login, found) if found else None


def _api(uri):
    from vetctl.bus import management

    base, auth, _ = management(uri)
    return base, auth


def _call(session, method, url, payload=None):
    import requests

    try:
        reply = session.request(method, url, json=payload, timeout=10)
    except requests.RequestException as exc:
        raise Failure(
            f"RabbitMQ's management API is not reachable at {url.split('/api/')[0]}"
            f" ({type(exc).__name__}): `rabbitmq-plugins enable rabbitmq_management`"
            " or set RABBIT_API"
        ) from None
    if reply.status_code == 401:
        raise Failure(
            "the broker refused the bootstrap login: set BROKER_ADMIN_URI to an "
            "administrator's AMQP URI"
        )
    if reply.status_code >= 400:
        raise Failure(
            f"{method} {url.split('/api/', 1)[-1]}: {reply.status_code} {reply.text[:200]}"
        )
    return reply


def init(uri=None, vhost=None, directory=None, table=None):
    """Apply the table. → ``[(user, login)]`` for every user made or brought up to date."""
    import requests

    uri = uri or admin_uri()
    vhost = vhost or vhost_of(uri)
    base, auth = _api(uri)
    table = table or broker_access.load()
    v = quote(vhost, safe="")
    done = []
    with requests.Session() as session:
        session.auth = auth
        _call(session, "PUT", f"{base}/vhosts/{v}", {})
        for name in broker_access.exchanges(table):
            _call(
                session,
                "PUT",
                f"{base}/exchanges/{v}/{quote(name, safe='')}",
                {
                    "type": "topic",
                    "durable": True,
                    "auto_delete": False,
                    "internal": False,
                    "arguments": {},
                },
            )
        for user, access in broker_access.accesses(table).items():
            login = broker_access.user_name(user, prefix())
            who = quote(login, safe="")
            _call(
                session,
                "PUT",
                f"{base}/users/{who}",
                {"password": password(user, login, directory), "tags": ",".join(access.tags)},
            )
            _call(
                session,
                "PUT",
                f"{base}/permissions/{v}/{who}",
                {"configure": access.configure, "write": access.write, "read": access.read},
            )
            for exchange, rule in access.topics.items():
                _call(
                    session,
                    "PUT",
                    f"{base}/topic-permissions/{v}/{who}",
                    {"exchange": exchange, **rule},
                )
            done.append((user, login))
    return done
