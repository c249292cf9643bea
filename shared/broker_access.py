"""The broker's users and their rights, expanded from ``shared/data/broker_access.yaml``
(the one table): what ``vetctl broker init`` applies and the deploy manifests follow."""

from dataclasses import dataclass, field
from pathlib import Path

import yaml

TABLE = Path(__file__).resolve().parent / "data" / "broker_access.yaml"


@dataclass(frozen=True)
class Access:
    """One user's rights in one vhost: anchored regexes, as RabbitMQ takes them."""

    user: str  # the table's name: a service, vetctl or operations
    tags: tuple = ()
    configure: str = "^$"
    write: str = "^$"
    read: str = "^$"
    topics: dict = field(default_factory=dict)  # exchange -> {"write": re, "read": re}


def load(path=TABLE):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _alternation(patterns):
    return f"^({'|'.join(patterns)})$" if patterns else "^$"


def _fill(text, values):
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def services(table=None):
    return tuple((table or load())["services"])


def exchanges(table=None):
    """Every exchange ``broker init`` declares, in a stable order."""
    table = table or load()
    names: list[str] = []
    for name in table["exchanges"]:
        if "{service}" in name:
            names.extend(name.replace("{service}", service) for service in services(table))
        else:
            names.append(name)
    return names


def accesses(table=None):
    """``{user: Access}`` for every service and every tool user of the table."""
    table = table or load()
    common = {"reply_key": table["reply_key"], "services": "|".join(services(table))}
    found = {}
    template = table["service"]
    for name, spec in table["services"].items():
        values = {**common, "name": name}

        def expand(patterns, values=values, spec=spec):
            out: list[str] = []
            for pattern in patterns:
                if "{source}" in pattern:
                    out.extend(
                        _fill(pattern, {**values, "source": source})
                        for source in spec.get("subscribes_to", ())
                    )
                else:
                    out.append(_fill(pattern, values))
            return out

        found[name] = Access(
            user=name,
            configure=_alternation(expand(template["configure"])),
            write=_alternation(expand(template["write"])),
            read=_alternation(expand(template["read"])),
            topics=_topics(template.get("topics") or {}, values),
        )
    for name, spec in table["users"].items():
        found[name] = Access(
            user=name,
            tags=tuple(spec.get("tags") or ()),
            configure=_alternation([_fill(p, common) for p in spec.get("configure") or ()]),
            write=_alternation([_fill(p, common) for p in spec.get("write") or ()]),
            read=_alternation([_fill(p, common) for p in spec.get("read") or ()]),
            topics=_topics(spec.get("topics") or {}, common),
        )
    return found


def _topics(spec, values):
    return {
        exchange: {kind: f"^{_fill(rule[kind], values)}$" for kind in ("write", "read")}
        for exchange, rule in spec.items()
    }


def user_name(user, prefix=""):
    """The broker login of a table user: ``prefix`` keeps deployments (or test runs) that
    share one broker apart."""
    return f"{prefix}{user}"
