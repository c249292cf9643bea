"""The county-scope table (tests/integration/test_county_scope.py) takes every RPC of the
five services that takes a record id: a new RPC, or a new id argument, fails here until it
is put in the table (answered as missing outside the caller's counties), among the public
offers, or among the RPCs that take no record id."""

import inspect

from services.followup.service import FollowupService
from services.jobs.service import JobsService
from services.loans.service import LoansService
from services.registry.service import RegistryService
from services.training.service import TrainingService
from shared.messaging import Rpc
from tests.integration.test_county_scope import NO_RECORD_ID, PUBLIC, TABLE

SERVICES = (RegistryService, JobsService, LoansService, TrainingService, FollowupService)


def rpc_methods():
    for cls in SERVICES:
        for name, member in inspect.getmembers(cls, inspect.isfunction):
            if name != "health" and any(
                isinstance(entrypoint, Rpc)
                for entrypoint in getattr(member, "nameko_entrypoints", ())
            ):
                yield cls.name, name, list(inspect.signature(member).parameters)[1:]


def test_the_services_have_the_rpcs_the_table_was_written_for():
    found = {(service, method) for service, method, _ in rpc_methods()}
    assert len(found) > 60
    assert {(s, m) for s, m, _ in TABLE} | {
        (s, m) for s, m, _ in PUBLIC
    } | NO_RECORD_ID <= found  # nothing in the table that is not an RPC (a renamed one)


def test_every_id_argument_of_every_rpc_is_in_the_county_scope_table():
    covered = set(TABLE) | PUBLIC
    missing = []
    for service, method, parameters in rpc_methods():
        ids = [p for p in parameters if p.endswith("_id")]
        for parameter in ids:
            if (service, method, parameter) not in covered:
                missing.append(f"{service}.{method}({parameter})")
        takes_dict = {"data", "filters", "batch"} & set(parameters)
        in_table = any((s, m) == (service, method) for s, m, _ in covered)
        if (takes_dict or not ids) and not in_table and (service, method) not in NO_RECORD_ID:
            missing.append(f"{service}.{method}: in the table, or among NO_RECORD_ID")
    assert missing == []


# Station tokens (docs/architecture.md, "Stations and station scope"): only these RPCs,
# which check each card's station, accept one; every other refuses it before any worker.
STATION_RPCS = {
    ("registry", "register_veteran"),
    ("registry", "register_veterans"),
    ("registry", "update_veteran"),
    ("registry", "get_veteran"),
    ("registry", "find_veteran_by_id_number"),
    ("registry", "get_card"),
    ("registry", "reveal_id_number"),
    ("registry", "search_veterans"),
    ("registry", "stats"),
}


def test_only_registrys_card_rpcs_accept_a_station_token():
    accepting = set()
    for cls in SERVICES:
        for name, member in inspect.getmembers(cls, inspect.isfunction):
            for entrypoint in getattr(member, "nameko_entrypoints", ()):
                if isinstance(entrypoint, Rpc) and getattr(entrypoint, "stations", False):
                    accepting.add((cls.name, name))
    assert accepting == STATION_RPCS
