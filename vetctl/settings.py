"""What every command gets from the root group's options (--json, --config, --timeout):
the broker URIs to use and a client connected with the operator's token."""

import click

from vetctl.client import broker_url, connect


class Settings:
    def __init__(self, as_json, config, timeout):
        self.as_json, self.config, self.timeout = as_json, config, timeout

    @property
    def uri(self):
        return broker_url(self.config)

    @property
    def operations_uri(self):
        """For dead letters, the event tail and queue figures: the operations user."""
        return broker_url(self.config, user="operations")

    def client(self):
        return connect(self.uri, timeout=self.timeout)


pass_settings = click.make_pass_decorator(Settings)
