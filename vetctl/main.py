"""vetctl: the operators' command line over the same RPC and event bus the services use.

Every command has --help with an example, --json for scripts, exit code 0 on success and
a one-line reason otherwise."""

import os
import sys

import click

from vetctl.commands import (
    auth,
    broker,
    dlq,
    events,
    exports,
    imports,
    loans,
    lookups,
    report,
    system,
    token,
    tools,
)
from vetctl.settings import Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False),
    help="a service config file to read AMQP_URI from (else $AMQP_URI, else "
    "services/registry/config.yaml)",
)
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="seconds to wait for a service's reply",
)
@click.pass_context
def cli(ctx, as_json, config, timeout):
    """vetctl: the Veterans Affairs Bureau's operators' tool.

    \b
    Example:  vetctl card 652301199003071231
    The token comes from $VETCTL_TOKEN or .local/admin.token (make up writes it)."""
    ctx.obj = Settings(as_json, config, timeout)


# One module per command group (vetctl/commands/); --help lists them by name.
for command in (
    system.check,
    system.migrate,
    system.health,
    system.status,
    broker.broker,
    auth.auth,
    token.token,
    imports.import_,
    exports.export,
    lookups.card,
    lookups.booklet,
    lookups.worklist,
    lookups.match,
    loans.loans,
    report.report,
    events.events,
    dlq.dlq,
    tools.call,
    tools.demo,
):
    cli.add_command(command)


def main(argv=None):
    """The console script. An unexpected error is one line too (VETCTL_DEBUG=1 shows the
    traceback)."""
    try:
        return cli.main(args=argv, prog_name="vetctl", standalone_mode=True)
    except SystemExit as exit_:
        return exit_.code
    except Exception as exc:
        if os.environ.get("VETCTL_DEBUG"):
            raise
        click.echo(f"vetctl: {type(exc).__name__}: {exc}", err=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
