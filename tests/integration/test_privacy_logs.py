"""Every RPC of every service, driven with personal data in every argument and in every
string field a schema of the project knows: no log line keeps any of it, in any of the
shapes people write it in."""

import inspect
import io
import logging
import re
import uuid

from marshmallow import Schema
from nameko.exceptions import RemoteError
from nameko.rpc import Rpc

from shared.errors import ServiceError
from shared.logging import make_handler
from tests.factories import id_number
from tests.integration.vetctl.conftest import service_classes

NAME = "欧阳娜娜"
ID = id_number(birth="19850214", seq=17)
PHONE = "13912345678"
# What a clerk or an attacker might type, and the patterns that must find none of it.
POISONS = [
    f"{NAME} {ID}",
    f"{ID}X {NAME}",
    f"tel 0086{PHONE}",
    "tel +86 139-1234-5678",
    "tel 139 1234 5678",
    "tel １３９１２３４５６７８",
    f"{NAME}的电话{PHONE}",
]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
LEAKS = [
    re.escape(NAME),
    re.escape(ID[6:14]),  # the birth date inside the ID number
    "1234[- ]?5678",  # the phone's middle, with or without separators
    re.escape("1234".translate(FULL_WIDTH)),
]


def every_field_name():
    """Every field a marshmallow schema of the project declares."""
    import services.followup.schemas
    import services.jobs.bureau
    import services.jobs.schemas
    import services.loans.schemas
    import services.registry.enterprises
    import services.registry.schemas
    import services.registry.search
    import services.training.schemas  # noqa: F401

    names, stack = set(), list(Schema.__subclasses__())
    while stack:
        cls = stack.pop()
        stack += cls.__subclasses__()
        if cls.__module__.startswith(("services.", "shared.")):
            names |= set(getattr(cls, "_declared_fields", {}))
    return sorted(names)


def rpcs():
    """(service name, method, its parameters) for every RPC of every service."""
    found = []
    for cls in service_classes():
        for name in sorted(dir(cls)):
            method = getattr(cls, name)
            if any(isinstance(e, Rpc) for e in getattr(method, "nameko_entrypoints", ())):
                params = [
                    p for p in inspect.signature(method).parameters.values() if p.name != "self"
                ]
                found.append((cls.name, name, params))
    return found


def calls(params, fields, poison):
    """Argument lists for one RPC: each parameter in turn the poison, a payload holding the
    poison in every field, or a list of those (the other parameters ids)."""
    for index, _ in enumerate(params):
        for value in (poison, dict.fromkeys(fields, poison), [dict.fromkeys(fields, poison)]):
            args = [str(uuid.uuid4()) for _ in params]
            args[index] = value
            yield args


def test_no_log_line_keeps_personal_data_sent_to_any_rpc(start, rpc):
    buffer = io.StringIO()
    handler = make_handler(buffer)
    root = logging.getLogger()
    root.addHandler(handler)
    methods, fields, answered, unexpected = rpcs(), every_field_name(), 0, []
    try:
        start(*service_classes())
        for poison in POISONS:
            for service, method, params in methods:
                for args in calls(params, fields, poison):
                    try:
                        getattr(getattr(rpc, service), method)(*args)
                    except ServiceError:
                        pass
                    except RemoteError as exc:  # not one of the project's own errors
                        unexpected.append(f"{service}.{method}: {exc.exc_type}")
                    answered += 1
    finally:
        root.removeHandler(handler)
    logs = buffer.getvalue()
    assert len(methods) >= 70 and {"id_number", "name", "notes", "contact_phone"} <= set(fields)
    assert not unexpected, sorted(set(unexpected))
    assert answered > 1000
    assert "expected error InvalidInput in registry.register_veteran" in logs  # it logged
    for pattern in LEAKS:
        found = [line for line in logs.splitlines() if re.search(pattern, line)]
        assert not found, f"{pattern!r} in {len(found)} log lines, e.g. {found[0][:300]}"
