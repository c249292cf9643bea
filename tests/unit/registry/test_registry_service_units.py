"""RegistryService's RPC methods with an in-memory store: no broker, no database."""

import uuid
from datetime import UTC, datetime

import pytest
from nameko.testing.services import worker_factory

from services.registry import domain
from services.registry.service import RegistryService
from shared.auth import Caller, Operator
from shared.clock import FrozenClock
from shared.contracts.registry import VETERAN_REGISTERED
from shared.errors import Conflict, InvalidInput, NotFound
from tests.factories import id_number, make_veteran
from tests.unit.registry.fakes import Audit, FakeRegistryStore

NOW = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


@pytest.fixture
def store():
    return FakeRegistryStore(NOW)


@pytest.fixture
def service(store):
    return worker_factory(
        RegistryService,
        store=store,
        clock=FrozenClock(NOW),
        auth=Caller(Operator("op-1", "clerk", "county", ("652301",))),
    )


def test_register_veteran_stores_the_veteran_and_emits_one_registered_event(service, store):
    reply = service.register_veteran(make_veteran())
    assert list(store.veterans) == [reply["id"]]
    assert len(store.events) == 1
    assert store.events[0].type == VETERAN_REGISTERED
    assert store.events[0].data["veteran_id"] == reply["id"]


def test_register_veteran_replies_with_the_id_number_masked(service):
    data = make_veteran()
    reply = service.register_veteran(data)
    assert reply["id_number"] == domain.mask_id_number(data["id_number"])
    assert data["id_number"] not in str(reply)
    assert reply["name"] == data["name"]


def test_register_veteran_gives_a_fresh_uuid_and_stamps_the_clock_time(service):
    reply = service.register_veteran(make_veteran())
    assert uuid.UUID(reply["id"]).version == 4
    assert reply["registered_at"] == reply["updated_at"] == NOW.isoformat()


def test_registering_a_taken_id_number_raises_conflict_naming_the_holder(service, store):
    number = id_number(seq=7)
    first = service.register_veteran(make_veteran(id_number=number))
    with pytest.raises(Conflict) as caught:
        service.register_veteran(make_veteran(id_number=number, name="李强"))
    assert caught.value.details == {"veteran_id": first["id"]}
    assert len(store.events) == 1
    assert list(store.veterans) == [first["id"]]


def test_a_taken_id_number_typed_with_a_lowercase_x_is_still_a_conflict(service, store):
    number = next(
        n for n in (id_number(seq=s) for s in range(100) for _ in range(5)) if n.endswith("X")
    )
    first = service.register_veteran(make_veteran(id_number=number))
    with pytest.raises(Conflict) as caught:
        service.register_veteran(make_veteran(id_number=number.lower()))
    assert caught.value.details["veteran_id"] == first["id"]


def test_bad_input_raises_invalid_input_before_the_store_is_touched(service, store):
    bad = make_veteran(id_number="652301199002301234", phone="12345", county_code="110101")
    with pytest.raises(InvalidInput) as caught:
        service.register_veteran(bad)
    assert {"id_number", "phone", "county_code"} <= set(caught.value.errors)
    assert store.calls == []


def test_register_veteran_with_a_non_dict_raises_invalid_input(service, store):
    with pytest.raises(InvalidInput):
        service.register_veteran(["not", "a", "dict"])
    assert store.calls == []


def test_get_veteran_returns_the_card_with_phone_and_address_and_the_id_number_masked(service):
    data = make_veteran()
    registered = service.register_veteran(data)
    found = service.get_veteran(registered["id"])
    assert found == {**registered, "phone": data["phone"], "address": data["address"]}
    assert found["id_number"] == domain.mask_id_number(data["id_number"])


def test_the_reply_of_a_registration_masks_the_phone_and_leaves_the_address_out(service):
    data = make_veteran()
    registered = service.register_veteran(data)
    assert registered["phone"] == "138****3456" and "address" not in registered


# get_card's audit row: tests/integration/test_privacy_masks.py (it reads the timeline too).
@pytest.mark.parametrize("read", ["get_veteran", "find_veteran_by_id_number"])
def test_each_single_card_read_writes_one_audit_row(service, store, read):
    data = make_veteran()
    registered = service.register_veteran(data)
    store.audits.clear()
    key = data["id_number"] if read == "find_veteran_by_id_number" else registered["id"]
    getattr(service, read)(key)
    assert store.audits == [
        Audit("op-1", "read_card", "veteran", registered["id"], details={"rpc": read})
    ]


def test_get_veteran_of_an_unknown_id_raises_not_found(service):
    with pytest.raises(NotFound):
        service.get_veteran(str(uuid.uuid4()))


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", None, 42, "x" * 100])
def test_get_veteran_of_a_non_uuid_raises_invalid_input_naming_veteran_id(service, store, bad_id):
    with pytest.raises(InvalidInput) as caught:
        service.get_veteran(bad_id)
    assert list(caught.value.errors) == ["veteran_id"]
    assert store.calls == []


def test_find_veteran_by_id_number_finds_by_the_normalised_number(service):
    number = next(
        n for n in (id_number(seq=s) for s in range(100) for _ in range(5)) if n.endswith("X")
    )
    registered = service.register_veteran(make_veteran(id_number=number))
    assert service.find_veteran_by_id_number(number.lower())["id"] == registered["id"]


def test_find_veteran_by_an_unknown_id_number_raises_not_found(service):
    with pytest.raises(NotFound):
        service.find_veteran_by_id_number(id_number())


def test_find_veteran_by_a_malformed_id_number_raises_invalid_input(service, store):
    with pytest.raises(InvalidInput) as caught:
        service.find_veteran_by_id_number("12345")
    assert list(caught.value.errors) == ["id_number"]
    assert store.calls == []


def test_a_clerk_registering_into_another_county_is_forbidden_and_nothing_is_stored(service, store):
    from shared.errors import Forbidden

    with pytest.raises(Forbidden):
        service.register_veteran(make_veteran(county_code="652302"))
    assert "add_veteran" not in store.calls and store.events == []


def test_a_registration_names_its_operator_in_the_record_and_the_audit(service, store):
    created = service.register_veteran(make_veteran())
    assert store.created_by == "op-1"
    assert store.audits == [Audit("op-1", "register_veteran", "veteran", created["id"])]
