"""How vetctl talks to the services: nameko RPC with the operator's token, and failures
turned into one-line reasons (which URL, what to start, which field)."""

import os
from contextlib import contextmanager
from pathlib import Path

import click

from shared.config import amqp_uri, service_config

# The checkout's .local (where make run / make up keep the secret and the admin token),
# whatever directory vetctl runs from.
LOCAL = Path(os.environ.get("LOCAL_DIR") or Path(__file__).resolve().parent.parent / ".local")
SECRET_FILE = LOCAL / "auth.secret"
ADMIN_TOKEN_FILE = LOCAL / "admin.token"


class Failure(click.ClickException):
    """A one-line reason and a non-zero exit code (1); ``exit_code`` 2 for usage."""

    def show(self, file=None):
        click.echo(f"vetctl: {self.format_message()}", err=True)


def safe_url(url):
    """A URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}@{host}"
    return url


def broker_url(config_file=None, user="vetctl"):
    """The URI vetctl connects with: AMQP_URI from the environment (OPERATIONS_AMQP_URI
    first for the operations user), else the broker, host and vhost of a service config
    file (registry's by default) with ``user``'s own login once ``vetctl broker init`` has
    made it (shared/data/broker_access.yaml), else that file's URI as it is."""
    if user == "operations" and os.environ.get("OPERATIONS_AMQP_URI"):
        return os.environ["OPERATIONS_AMQP_URI"]
    if os.environ.get("AMQP_URI"):
        return os.environ["AMQP_URI"]
    if config_file:
        from shared.config import load_config

        base = amqp_uri(load_config(config_file))
    else:
        base = amqp_uri(service_config("registry"))
    from vetctl.broker import user_uri

    return user_uri(user, base) or base


def signing_secret():
    """VET_AUTH_SECRET's first secret, else the local one ``vetctl auth init`` made."""
    from shared.auth import SecretTooShort, check_secret_lengths, secrets_from

    try:
        if os.environ.get("VET_AUTH_SECRET"):
            return secrets_from({"AUTH_SECRETS": os.environ["VET_AUTH_SECRET"]})[0]
        if SECRET_FILE.exists():
            return check_secret_lengths([SECRET_FILE.read_text().strip()], str(SECRET_FILE))[0]
    except SecretTooShort as exc:
        raise Failure(str(exc)) from None
    raise Failure(
        "no secret: set VET_AUTH_SECRET or run `vetctl auth init` (make run / make up do)"
    )


def operator_token():
    """The token vetctl sends: VETCTL_TOKEN, else .local/admin.token."""
    if os.environ.get("VETCTL_TOKEN"):
        return os.environ["VETCTL_TOKEN"].strip()
    if ADMIN_TOKEN_FILE.exists():
        return ADMIN_TOKEN_FILE.read_text().strip()
    raise Failure(f"no token: set VETCTL_TOKEN or run `make up` to create {ADMIN_TOKEN_FILE}")


def describe_error(exc):
    """One line for an error a service raised."""
    from shared.errors import InvalidInput

    if isinstance(exc, InvalidInput) and getattr(exc, "errors", None):
        fields = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in sorted(exc.errors.items())
        )
        return f"invalid input: {fields}"
    name = type(exc).__name__
    message = getattr(exc, "message", None) or str(exc)
    if name == "RemoteError":
        message = f"{getattr(exc, 'exc_type', '')}: {getattr(exc, 'value', message)}"
    return f"{name}: {message}"


class Client:
    """``client.call("registry", "get_card", vid)``; errors become ``Failure``."""

    def __init__(self, proxy, uri, timeout):
        self.proxy, self.uri, self.timeout = proxy, uri, timeout

    def call(self, service, method, *args, **kwargs):
        from nameko.exceptions import RpcTimeout

        from shared.errors import ServiceError

        reply = kwargs.pop("_reply", None)
        try:
            if reply is not None:
                return reply.result()
            return getattr(getattr(self.proxy, service), method)(*args, **kwargs)
        except RpcTimeout:
            raise Failure(
                f"{service} did not answer within {self.timeout:g} s on "
                f"{safe_url(self.uri)}: is it running? (`make up`)"
            ) from None
        except ServiceError as exc:
            raise Failure(f"{service}.{method}: {describe_error(exc)}") from None
        except Exception as exc:  # RemoteError and the like: still one line
            if type(exc).__name__ in ("RemoteError", "MethodNotFound", "UnknownService"):
                raise Failure(f"{service}.{method}: {describe_error(exc)}") from None
            raise

    def call_async(self, service, method, *args):
        """Send now, wait later: ``.result()`` on what this returns, with ``call``'s
        error handling."""
        reply = getattr(getattr(self.proxy, service), method).call_async(*args)
        return _Pending(self, service, method, reply)

    def try_call(self, service, method, *args):
        """``call`` that answers None instead of failing (for optional services)."""
        try:
            return self.call(service, method, *args)
        except Failure:
            return None


class _Pending:
    def __init__(self, client, service, method, reply):
        self.client, self.service, self.method, self.reply = client, service, method, reply

    def result(self):
        holder = self.reply
        return self.client.call(self.service, self.method, _reply=holder)


@contextmanager
def connect(uri=None, timeout=15.0, token=None):
    from shared.rpc_client import cluster_proxy

    uri = uri or broker_url()
    context = {"auth_token": token if token is not None else operator_token()}
    proxy_context = cluster_proxy({"AMQP_URI": uri}, timeout=timeout, context_data=context)
    try:
        proxy = proxy_context.start()
    except (OSError, ConnectionError) as exc:
        raise Failure(
            f"RabbitMQ is not reachable at {safe_url(uri)} ({type(exc).__name__}): "
            "start it with `rabbitmq-server -detached` or set AMQP_URI"
        ) from None
    try:
        yield Client(proxy, uri, timeout)
    finally:
        try:
            proxy_context.stop()
        except Exception:  # the broker went away meanwhile: nothing left to close
            pass
