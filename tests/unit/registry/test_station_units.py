"""Registry's station rules with an in-memory store: a card's station must be one of its
county's, a station clerk writes only into its stations and reads only their cards, and the
station travels in the veteran facts of events."""

from datetime import UTC, datetime

import pytest
from nameko.testing.services import worker_factory

from services.registry.service import RegistryService
from shared.auth import Caller, Operator
from shared.clock import FrozenClock
from shared.contracts.registry import VETERAN_UPDATED
from shared.errors import Forbidden, InvalidInput, NotFound
from tests.factories import make_veteran
from tests.unit.registry.fakes import FakeRegistryStore

NOW = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
VILLAGE, NEIGHBOUR, TOWNSHIP = "652301001001", "652301001002", "652301001000"


def worker(store, stations=(), counties=("652301",)):
    operator = Operator("op-1", "clerk", "county", counties, tuple(stations))
    return worker_factory(
        RegistryService, store=store, clock=FrozenClock(NOW), auth=Caller(operator)
    )


@pytest.fixture
def store():
    return FakeRegistryStore(NOW)


def test_the_station_is_kept_shown_and_carried_in_the_events(store):
    reply = worker(store).register_veteran(make_veteran(station_code=VILLAGE))
    assert reply["station_code"] == VILLAGE
    assert store.veterans[reply["id"]].station_code == VILLAGE
    assert store.events[0].data["station_code"] == VILLAGE
    worker(store).update_veteran(reply["id"], {"station_code": NEIGHBOUR})
    [updated] = [e for e in store.events if e.type == VETERAN_UPDATED]
    assert updated.data["changed"] == {"station_code": NEIGHBOUR}
    assert updated.data["snapshot"]["station_code"] == NEIGHBOUR


@pytest.mark.parametrize(
    "data,message",
    [
        ({"county_code": "652302", "station_code": VILLAGE}, "is not a station of"),
        ({"station_code": "652301999001"}, "not a township or village station"),
        ({"station_code": "65230100100"}, "not a township or village station"),
    ],
)
def test_a_station_outside_the_cards_county_is_invalid_naming_station_code(store, data, message):
    with pytest.raises(InvalidInput) as refused:
        worker(store).register_veteran(make_veteran(**data))
    assert list(refused.value.details) == ["station_code"]
    assert message in refused.value.details["station_code"][0]
    assert store.veterans == {}


def test_moving_a_card_to_another_county_needs_a_station_of_that_county(store):
    card = worker(store).register_veteran(make_veteran(station_code=VILLAGE))
    prefecture = worker_factory(
        RegistryService,
        store=store,
        clock=FrozenClock(NOW),
        auth=Caller(Operator("p", "staff", "prefecture", ("*",))),
    )
    with pytest.raises(InvalidInput) as refused:
        prefecture.update_veteran(card["id"], {"county_code": "652302"})
    assert "station_code" in refused.value.details
    moved = prefecture.update_veteran(card["id"], {"county_code": "652302", "station_code": None})
    assert (moved["county_code"], moved["station_code"]) == ("652302", None)


def test_a_station_clerk_writes_only_into_its_stations(store):
    clerk = worker(store, [VILLAGE])
    own = clerk.register_veteran(make_veteran(station_code=VILLAGE))
    for station in (NEIGHBOUR, TOWNSHIP, None):
        with pytest.raises(Forbidden) as refused:
            clerk.register_veteran(make_veteran(station_code=station))
        assert "6523" not in str(refused.value)
        with pytest.raises(Forbidden):
            clerk.update_veteran(own["id"], {"station_code": station})
    assert [v.station_code for v in store.veterans.values()] == [VILLAGE]


def test_a_station_clerk_is_told_another_stations_card_is_missing(store):
    others = [
        worker(store).register_veteran(make_veteran(station_code=station))["id"]
        for station in (NEIGHBOUR, None)
    ]
    clerk = worker(store, [VILLAGE])
    for veteran_id in others:
        with pytest.raises(NotFound) as refused:
            clerk.get_veteran(veteran_id)
        assert str(refused.value) == f"no veteran {veteran_id}"
    township = worker(store, [TOWNSHIP])
    assert township.get_veteran(others[0])["station_code"] == NEIGHBOUR


def test_a_station_clerks_search_and_stats_cover_only_its_stations(store):
    for station in (VILLAGE, VILLAGE, NEIGHBOUR, None):
        worker(store).register_veteran(make_veteran(station_code=station))
    clerk = worker(store, [VILLAGE])
    assert clerk.search_veterans()["total"] == 2
    assert clerk.stats()["veterans"] == 2
    assert worker(store, [TOWNSHIP]).stats()["veterans"] == 3
    assert worker(store).stats(station_code=TOWNSHIP)["veterans"] == 3
    assert worker(store).stats()["veterans"] == 4
    with pytest.raises(Forbidden):
        clerk.stats(station_code=TOWNSHIP)
    with pytest.raises(InvalidInput) as wrong:
        worker(store, counties=("*",)).stats(county_code="652302", station_code=VILLAGE)
    assert list(wrong.value.details) == ["station_code"]


def test_a_search_by_station_rolls_a_township_up_and_stays_within_a_clerks_stations(store):
    for station in (VILLAGE, NEIGHBOUR, TOWNSHIP, "652301002001", None):
        worker(store).register_veteran(make_veteran(station_code=station))
    county = worker(store)
    assert county.search_veterans({"station_code": TOWNSHIP})["total"] == 3
    assert county.search_veterans({"station_code": [VILLAGE, "652301002001"]})["total"] == 2
    assert worker(store, [TOWNSHIP]).search_veterans({"station_code": VILLAGE})["total"] == 1
    with pytest.raises(Forbidden) as refused:
        worker(store, [VILLAGE]).search_veterans({"station_code": TOWNSHIP})
    assert "6523" not in str(refused.value)
    with pytest.raises(InvalidInput) as unknown:
        county.search_veterans({"station_code": "652301999001"})
    assert list(unknown.value.details) == ["station_code"]
