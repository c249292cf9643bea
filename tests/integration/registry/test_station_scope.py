"""Station scope (issue 19, item 1): a station clerk's token reads and writes only the cards
of its stations (a township's covers its villages), counts only their figures, and gets
for another station's card (or one with no station) the very answer a missing card gets,
from every registry RPC that takes a veteran id; every other service refuses the token
(docs/architecture.md, "Stations and station scope")."""

import json
import re
import uuid

import pytest

from services.jobs.service import JobsService
from services.registry.service import RegistryService
from shared.auth import STATIONS_REGISTRY_ONLY
from shared.errors import NotFound
from tests.conftest import token
from tests.factories import make_veteran
from tests.integration.registry.enterprises.booklets import make_enterprise, valid_uscc
from tests.integration.test_county_scope import RECORD, TABLE, outcome, without

COUNTY = "652301"
TOWNSHIP, VILLAGE, NEIGHBOUR = "652301001000", "652301001001", "652301001002"
OTHER_TOWNSHIP_VILLAGE = "652301002001"
VILLAGE_CLERK = token("county", [COUNTY], operator="clerk-village", stations=[VILLAGE])
TOWNSHIP_CLERK = token("county", [COUNTY], operator="clerk-township", stations=[TOWNSHIP])
PREFECTURE = token("prefecture", ["*"], operator="prefecture-staff")
# The registry rows of the county-scope table: every registry RPC that takes a record id.
REGISTRY_ROWS = {key: call for key, call in TABLE.items() if key[0] == "registry"}
CODES = re.compile(r"\b6523\d{2}(\d{6})?\b")


def card(station, **more):
    return make_veteran(county_code=COUNTY, station_code=station, **more)


@pytest.fixture
def ledger(start, rpc_as):
    """Cards made by prefecture staff: two at the village, one at its neighbour village,
    one at the township itself, one in another township, one with no station."""
    start(RegistryService, JobsService)
    neighbour = card(NEIGHBOUR)
    with rpc_as(PREFECTURE) as staff:
        ids = {
            "village_employed": staff.registry.register_veteran(
                card(VILLAGE, employment_status="employed", employer="昌吉市物流公司")
            ),
            "village_job_seeker": staff.registry.register_veteran(
                card(VILLAGE, willingness="job", employment_status="unemployed")
            ),
            "neighbour": staff.registry.register_veteran(neighbour),
            "township": staff.registry.register_veteran(card(TOWNSHIP)),
            "elsewhere": staff.registry.register_veteran(card(OTHER_TOWNSHIP_VILLAGE)),
            "no_station": staff.registry.register_veteran(card(None)),
        }
        ids["enterprise"] = staff.registry.register_enterprise(
            make_enterprise([ids["neighbour"]["id"]], county_code=COUNTY, uscc=valid_uscc(COUNTY))
        )
    return {key: value["id"] for key, value in ids.items()} | {"neighbour_data": neighbour}


def test_a_station_clerk_reads_and_writes_only_its_stations_cards(ledger, rpc_as):
    own = ledger["village_employed"]
    with rpc_as(VILLAGE_CLERK) as clerk:
        assert clerk.registry.get_card(own)["veteran"]["station_code"] == VILLAGE
        updated = clerk.registry.update_veteran(own, {"notes": "入户核实"})
        assert updated["notes"] == "入户核实" and updated["station_code"] == VILLAGE
        new = clerk.registry.register_veteran(card(VILLAGE))
        assert new["station_code"] == VILLAGE
        found = clerk.registry.search_veterans()
        assert {v["id"] for v in found["items"]} == {
            own,
            ledger["village_job_seeker"],
            new["id"],
        }
        assert found["total"] == 3
        # Into another station, or none, or moving its own card away: Forbidden, and the
        # message names no station and no county.
        refusals = [
            outcome(lambda: clerk.registry.register_veteran(card(NEIGHBOUR))),
            outcome(lambda: clerk.registry.register_veteran(card(None))),
            outcome(lambda: clerk.registry.update_veteran(own, {"station_code": NEIGHBOUR})),
            outcome(lambda: clerk.registry.update_veteran(own, {"station_code": None})),
        ]
        bulk = clerk.registry.register_veterans([card(NEIGHBOUR), card(VILLAGE)])["results"]
    assert [r[0] for r in refusals] == ["Forbidden"] * 4
    assert all(not CODES.search(r[1]) for r in refusals), refusals
    assert [r["status"] for r in bulk] == ["invalid", "created"]
    assert bulk[0]["errors"] == {"station_code": ["outside your stations"]}
    with rpc_as(PREFECTURE) as staff:
        assert staff.registry.get_veteran(own)["station_code"] == VILLAGE  # not moved
        assert staff.registry.search_veterans({"county_code": COUNTY})["total"] == 8


def test_a_station_must_be_one_of_the_cards_county(ledger, rpc_as):
    with rpc_as(PREFECTURE) as staff:
        with pytest.raises(Exception) as wrong:
            staff.registry.register_veteran(
                make_veteran(county_code="652302", station_code=VILLAGE)
            )
        with pytest.raises(Exception) as moved:
            staff.registry.update_veteran(ledger["township"], {"county_code": "652302"})
        with pytest.raises(Exception) as unknown:
            staff.registry.register_veteran(card("652301999001"))
        # Moving the card with a station of the new county is fine.
        moved_ok = staff.registry.update_veteran(
            ledger["township"], {"county_code": "652302", "station_code": "652302001001"}
        )
    for raised in (wrong, moved, unknown):
        assert type(raised.value).__name__ == "InvalidInput"
        assert "station_code" in raised.value.details, raised.value.details
    assert moved_ok["station_code"] == "652302001001"


def test_another_stations_card_is_answered_exactly_as_a_missing_one(ledger, rpc_as):
    world = {
        "veteran": ledger["neighbour"],
        "enterprise": ledger["enterprise"],
    }
    differences = []
    with rpc_as(VILLAGE_CLERK) as clerk:
        for other in (ledger["neighbour"], ledger["no_station"], ledger["elsewhere"]):
            world["veteran"] = other
            for (_service, method, parameter), call in REGISTRY_ROWS.items():
                real = world[RECORD[parameter.split(".")[-1]]]
                unknown = str(uuid.uuid4())
                outside = outcome(lambda: call(clerk, world, real))
                missing = outcome(lambda: call(clerk, world, unknown))
                if without(outside, real) != without(missing, unknown):
                    differences.append((f"{method}({parameter})", outside, missing))
                assert not CODES.search(json.dumps(outside, ensure_ascii=False))
        neighbour = ledger["neighbour_data"]
        by_number = outcome(
            lambda: clerk.registry.find_veteran_by_id_number(neighbour["id_number"])
        )
        unregistered = outcome(
            lambda: clerk.registry.find_veteran_by_id_number(make_veteran()["id_number"])
        )
        with pytest.raises(NotFound):
            clerk.registry.get_veteran(ledger["neighbour"])
    assert differences == []
    assert by_number == unregistered == ("NotFound", "no veteran with this ID number", {})
    # Nothing was changed on the neighbour's card.
    with rpc_as(PREFECTURE) as staff:
        assert staff.registry.get_veteran(ledger["neighbour"])["notes"] is None


def test_a_station_clerk_sees_its_stations_figures(ledger, rpc_as):
    with rpc_as(VILLAGE_CLERK) as clerk:
        mine = clerk.registry.stats()
        named = clerk.registry.stats(station_code=VILLAGE)
        county = clerk.registry.stats(county_code=COUNTY)
        wider = outcome(lambda: clerk.registry.stats(station_code=TOWNSHIP))
        neighbour = outcome(lambda: clerk.registry.stats(station_code=NEIGHBOUR))
    assert mine["veterans"] == named["veterans"] == county["veterans"] == 2
    assert mine["by_status"]["employed"] == 1 and mine["by_status"]["unemployed"] == 1
    # the employed veteran and the job seeker are the base; one of them works
    assert mine["employment_rate"] == {"working": 1, "base": 2, "rate": 0.5}
    assert mine["stations"] == [VILLAGE]
    assert sum(sum(stages.values()) for stages in mine["enterprises"].values()) == 0
    assert wider[0] == neighbour[0] == "Forbidden"
    assert not CODES.search(wider[1] + neighbour[1])
    with rpc_as(PREFECTURE) as staff:
        township = staff.registry.stats(station_code=TOWNSHIP)
        village = staff.registry.stats(station_code=VILLAGE)
        whole = staff.registry.stats(county_code=COUNTY)
    # a township rolls up its villages and its own cards: 2 + 1 + 1
    assert township["veterans"] == 4 and township["station_code"] == TOWNSHIP
    assert village["veterans"] == 2
    assert whole["veterans"] == 6
    # the neighbour's enterprise counts at the township, not at the village
    assert township["enterprises"]["enterprise"]["startup"] == 1
    assert village["enterprises"]["enterprise"]["startup"] == 0


def test_a_township_clerk_sees_its_villages(ledger, rpc_as):
    with rpc_as(TOWNSHIP_CLERK) as clerk:
        found = {v["id"] for v in clerk.registry.search_veterans()["items"]}
        neighbour = clerk.registry.get_card(ledger["neighbour"])
        stats = clerk.registry.stats()
        with pytest.raises(NotFound):
            clerk.registry.get_card(ledger["elsewhere"])
        by_station = clerk.registry.search_veterans({"station_code": VILLAGE})["total"]
        moved = clerk.registry.update_veteran(ledger["neighbour"], {"station_code": VILLAGE})
    with rpc_as(VILLAGE_CLERK) as clerk:
        wider = outcome(lambda: clerk.registry.search_veterans({"station_code": TOWNSHIP}))
    with rpc_as(PREFECTURE) as staff:
        township_cards = staff.registry.search_veterans({"station_code": TOWNSHIP})["total"]
    assert found == {
        ledger["village_employed"],
        ledger["village_job_seeker"],
        ledger["neighbour"],
        ledger["township"],
    }
    assert neighbour["veteran"]["station_code"] == NEIGHBOUR
    assert stats["veterans"] == 4
    assert moved["station_code"] == VILLAGE
    assert by_station == 2  # before the neighbour's card moved to the village
    assert wider[0] == "Forbidden" and not CODES.search(wider[1])
    assert township_cards == 4


def test_other_services_refuse_a_station_token(ledger, rpc_as):
    with rpc_as(VILLAGE_CLERK) as clerk:
        answers = [
            outcome(lambda: clerk.jobs.match_jobs(ledger["village_employed"])),
            outcome(lambda: clerk.jobs.applications_for(ledger["village_employed"])),
            outcome(lambda: clerk.jobs.stats()),
            outcome(lambda: clerk.registry.search_enterprises()),
        ]
    assert {a[0] for a in answers} == {"Forbidden"}
    assert {a[1] for a in answers} == {STATIONS_REGISTRY_ONLY}
    with rpc_as(PREFECTURE) as staff:  # the same calls work with a county-wide token
        assert staff.jobs.stats()["county_code"] is None
