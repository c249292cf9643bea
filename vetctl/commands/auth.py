"""vetctl auth: local secrets for a start without VET_AUTH_SECRET."""

import secrets

import click

from vetctl.client import ADMIN_TOKEN_FILE, LOCAL, SECRET_FILE, signing_secret


@click.group()
def auth():
    """Local secrets.  Example: vetctl auth init"""


@auth.command("init")
@click.option("--days", type=float, default=30, show_default=True)
def auth_init(days):
    """For a local start without VET_AUTH_SECRET: one random secret, kept, and an admin
    token in .local/admin.token."""
    from shared.auth import issue

    LOCAL.mkdir(parents=True, exist_ok=True)
    if not SECRET_FILE.exists():
        SECRET_FILE.write_text(secrets.token_urlsafe(48) + "\n")
        SECRET_FILE.chmod(0o600)
        click.echo(f"auth: new secret in {SECRET_FILE}")
    token = issue(signing_secret(), "local-admin", "admin", ["*"], name="local admin", days=days)
    ADMIN_TOKEN_FILE.write_text(token + "\n")
    ADMIN_TOKEN_FILE.chmod(0o600)
    click.echo(f"auth: admin token in {ADMIN_TOKEN_FILE} (valid {days:g} days)")
