"""registry's first RPCs against the real RabbitMQ and PostgreSQL."""

import eventlet
import pytest

from services.registry.service import RegistryService
from shared.errors import Conflict, InvalidInput, NotFound
from tests.conftest import token
from tests.factories import id_number, make_veteran
from tests.helpers import scalar, wait_for


@pytest.fixture
def registry(start):
    return start(RegistryService)


def test_registration_stores_the_card_and_masks_the_id_number_and_phone(registry, rpc, db):
    data = make_veteran(id_number=id_number(birth="19900307", male=True))
    reply = rpc.registry.register_veteran(data)

    # Birth date and gender are shown: the mask hides the sequence too (first six, last one).
    assert reply["id_number"] == data["id_number"][:6] + "*" * 11 + data["id_number"][-1]
    assert reply["gender"] == "male" and reply["birth_date"] == "1990-03-07"
    assert reply["phone"] == data["phone"][:3] + "****" + data["phone"][-4:]
    assert "address" not in reply
    card = rpc.registry.get_veteran(reply["id"])
    assert card["skills"] == ["driver_b2", "security_guard"]
    assert (card["phone"], card["address"]) == (data["phone"], data["address"])
    assert card["id_number"] == reply["id_number"]
    assert (
        scalar(db, "SELECT id_number FROM registry.veterans WHERE id = %s", reply["id"])
        == data["id_number"]
    )


def test_registration_emits_veteran_registered_without_personal_identifiers(registry, rpc, db):
    data = make_veteran()
    reply = rpc.registry.register_veteran(data)

    body = scalar(db, "SELECT body FROM registry.outbox WHERE routing_key = 'veteran_registered'")
    assert body["data"]["veteran_id"] == reply["id"] and body["source"] == "registry"
    text = str(body)
    for secret in (data["id_number"], data["phone"], data["name"], data["address"]):
        assert secret not in text
    # The relay marks the row published once the broker has confirmed it.
    wait_for(
        lambda: scalar(db, "SELECT count(*) FROM registry.outbox WHERE published_at IS NOT NULL"),
        message="the relay to publish",
    )


def test_a_female_id_number_gives_gender_female(registry, rpc):
    reply = rpc.registry.register_veteran(make_veteran(id_number=id_number(male=False)))
    assert reply["gender"] == "female"


def test_a_division_code_unknown_for_the_birth_year_is_accepted_and_flagged(registry, rpc):
    # 652301 (Changji city) is not in stdnum's table for someone born in 1950.
    reply = rpc.registry.register_veteran(
        make_veteran(
            id_number=id_number(birth="19500101"),
            enlisted_on="1968-01-01",
            discharged_on="1975-01-01",
        )
    )
    assert reply["flags"] == ["id_division_unverified"]


def test_a_second_registration_of_the_same_id_number_is_a_conflict_naming_the_first(
    registry, rpc, db
):
    data = make_veteran()
    first = rpc.registry.register_veteran(data)
    with pytest.raises(Conflict) as caught:
        rpc.registry.register_veteran({**data, "name": "李强"})
    assert caught.value.details == {"veteran_id": first["id"]}
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 1
    assert scalar(db, "SELECT count(*) FROM registry.outbox") == 1


def test_two_concurrent_registrations_of_one_id_number_give_one_card(registry, config, db):
    from nameko.standalone.rpc import ClusterRpcProxy

    data = make_veteran()

    def register():
        with ClusterRpcProxy(config, timeout=15, context_data={"auth_token": token()}) as proxy:
            try:
                return proxy.registry.register_veteran(data)["id"]
            except Conflict as exc:
                return exc

    outcomes = [t.wait() for t in [eventlet.spawn(register) for _ in range(2)]]
    winners = [o for o in outcomes if isinstance(o, str)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].details["veteran_id"] == winners[0]
    assert scalar(db, "SELECT count(*) FROM registry.outbox") == 1


def test_find_by_id_number_accepts_a_lowercase_x_and_masks_the_reply(registry, rpc):
    number = next(n for n in (id_number(seq=s) for s in range(100)) if n.endswith("X"))
    created = rpc.registry.register_veteran(make_veteran(id_number=number))
    found = rpc.registry.find_veteran_by_id_number(number.lower())
    assert found["id"] == created["id"]
    assert found["id_number"] == number[:6] + "*" * 11 + "X"


def test_unknown_veteran_is_not_found_and_a_malformed_id_is_invalid(registry, rpc):
    with pytest.raises(NotFound):
        rpc.registry.get_veteran("5b0c5d0e-1d2b-4f7e-9a51-3c8a43c7e0aa")
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.get_veteran("not-a-uuid")
    assert "veteran_id" in caught.value.errors
    with pytest.raises(NotFound):
        rpc.registry.find_veteran_by_id_number(id_number(seq=7))


def test_health_answers_with_the_outbox_backlog(registry, rpc):
    health = rpc.registry.health()
    assert health["service"] == "registry" and health["status"] == "ok"
    assert health["outbox_backlog"] == 0
