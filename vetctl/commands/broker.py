"""vetctl broker: the broker's users and rights, through vetctl/broker.py."""

import click

from vetctl.client import Failure, safe_url


@click.group()
def broker():
    """The broker's users and rights (shared/data/broker_access.yaml).

    \b
    Example: vetctl broker init"""


@broker.command("init")
@click.option("--vhost", help="default: the vhost of the bootstrap URI")
def broker_init(vhost):
    """Create or bring up to date the vhost, exchanges, users and permissions of the table
    through the management API, as BROKER_ADMIN_URI (else AMQP_URI, else registry's URI).
    Idempotent; passwords from BROKER_PASSWORD_<USER>, else kept in .local/broker/."""
    from vetctl import broker as broker_setup

    done = broker_setup.init(vhost=vhost)
    click.echo(
        f"broker: {len(done)} users up to date on {safe_url(broker_setup.admin_uri())} "
        f"({', '.join(login for _, login in done)})"
    )


@broker.command("uri")
@click.argument("user")
def broker_uri(user):
    """Print USER's AMQP URI, password included (for scripts: it is a secret).

    \b
    Example: AMQP_URI=$(vetctl broker uri registry) nameko run ..."""
    from shared import broker_access
    from vetctl import broker as broker_setup

    users = broker_access.accesses()
    if user not in users:
        raise click.UsageError(f"no broker user {user!r}: one of {', '.join(users)}")
    found = broker_setup.user_uri(user)
    if found is None:
        raise Failure(f"{user} has no password yet: run `vetctl broker init`")
    click.echo(found)
