"""vetctl token: operators' tokens, issued and revoked."""

import click

from vetctl.client import signing_secret
from vetctl.render import emit_json
from vetctl.settings import pass_settings


@click.group()
def token():
    """Tokens for operators.

    Example: vetctl token issue --operator clerk-07 --role county --counties 652301"""


@token.command("issue")
@click.option("--operator", required=True, help="operator id (the token's sub)")
@click.option(
    "--role", required=True, help="admin | prefecture | county | viewer | bureau | service"
)
@click.option("--counties", required=True, help="comma-separated codes, or *")
@click.option("--days", type=float, default=30, show_default=True)
@click.option("--name", default="")
@click.option(
    "--station",
    "stations",
    multiple=True,
    help="limit the token to this township or village station (12 digits; repeatable); "
    "a township covers its villages",
)
@pass_settings
def token_issue(settings, operator, role, counties, days, name, stations):
    """Mint a token (needs the secret). The token goes to standard output, its id (jti,
    for `vetctl token revoke`) to standard error; --json prints both.

    \b
    Example: vetctl token issue --operator clerk-07 --role county --counties 652301,652302
             vetctl token issue --operator clerk-0101 --role county --counties 652301 \\
                 --station 652301001000"""
    import uuid

    from shared.auth import ROLES, issue, stations_problem
    from shared.jurisdiction import Jurisdiction

    codes = [c.strip() for c in counties.split(",") if c.strip()]
    if role not in ROLES:
        raise click.UsageError(f"unknown role {role}; roles: {', '.join(ROLES)}")
    if not codes:
        raise click.UsageError("--counties needs at least one code, or *")
    if "*" in codes and len(codes) > 1:
        raise click.UsageError("--counties is * alone or a list of codes")
    unknown = [c for c in codes if c != "*" and not Jurisdiction.load().contains(c)]
    if unknown:
        raise click.UsageError(f"counties outside the jurisdiction: {', '.join(unknown)}")
    stations = list(dict.fromkeys(stations))
    unknown = [s for s in stations if Jurisdiction.load().station(s) is None]
    if unknown:
        raise click.UsageError(f"stations outside the jurisdiction: {', '.join(unknown)}")
    problem = stations_problem(stations, codes, role) if stations else None
    if problem:
        raise click.UsageError(f"--station: {problem}")
    jti = str(uuid.uuid4())
    token_ = issue(
        signing_secret(), operator, role, codes, name=name, days=days, jti=jti, stations=stations
    )
    if settings.as_json:
        emit_json(
            {
                "token": token_,
                "jti": jti,
                "operator": operator,
                "role": role,
                "counties": codes,
                "stations": stations,
                "days": days,
            }
        )
        return
    click.echo(token_)
    click.echo(
        f"jti: {jti}  (to revoke this token alone: vetctl token revoke {jti} --reason ...)",
        err=True,
    )


@token.command("revoke")
@click.argument("jti")
@click.option("--reason", required=True, help="why, kept as the line's comment")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False),
    help="the deny list to append to (else $VET_AUTH_DENY_LIST, else "
    ".local/token-deny-list, which a local make up reads)",
)
@pass_settings
def token_revoke(settings, jti, reason, path):
    """Revoke one token by its id (jti): appends it to the deny list that every service
    re-reads within seconds (shared/denylist.py). In Compose or Kubernetes, append to the
    mounted file's source (--file) and publish it (docs/deploy.md).

    \b
    Example: vetctl token revoke 3f2c9a1e-5b7d-4c8e-9f10-2a3b4c5d6e7f --reason "laptop stolen"
    """
    import uuid
    from pathlib import Path

    from shared import denylist
    from shared.clock import bureau_clock

    try:
        jti = str(uuid.UUID(jti.strip()))
    except ValueError:
        raise click.UsageError(
            "JTI is a token's id as vetctl token issue shows it (a UUID)"
        ) from None
    reason = " ".join(reason.split())  # one line: the comment of this entry
    if not reason:
        raise click.UsageError("--reason must say why")
    target = Path(path) if path else denylist.default_path()
    already = target.exists() and jti in denylist.parse(target.read_text(encoding="utf-8"))
    if not already:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "a", encoding="utf-8") as handle:
            if handle.tell() and not target.read_text(encoding="utf-8").endswith("\n"):
                handle.write("\n")
            handle.write(f"{jti}  # {bureau_clock().local_now():%Y-%m-%d %H:%M} {reason}\n")
    if settings.as_json:
        emit_json({"jti": jti, "file": str(target), "already_revoked": already})
    else:
        click.echo(
            f"{jti} {'was already' if already else 'is'} revoked in {target}; services "
            f"refuse it within {denylist.CHECK_SECONDS:g} s of reading the file"
        )
