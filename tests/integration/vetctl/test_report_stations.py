"""`vetctl report --county X --stations` against the running services: a column per
station of the county beside the county's, registry's figures per station (a township's
rolling up its villages), the other services' shown as "—"."""

import csv
import json

from shared.jurisdiction import Jurisdiction, within
from tests.factories import make_veteran

COUNTY = "652302"


def test_report_with_stations_rolls_villages_up_to_their_township(system, vetctl, rpc):
    for station, status in (
        ("652302001001", "employed"),
        ("652302001001", "unemployed"),
        ("652302001002", "employed"),
        ("652302101000", "unemployed"),
        (None, "employed"),
    ):
        rpc.registry.register_veteran(
            make_veteran(
                county_code=COUNTY,
                station_code=station,
                willingness="job",
                employment_status=status,
                employer="某公司" if status == "employed" else None,
            )
        )
    shown = json.loads(
        vetctl("report", "--county", COUNTY, "--stations", "--format", "json", "--lang", "en")
    )["areas"]
    assert list(shown) == [
        COUNTY,
        "652302001000",
        "652302001001",
        "652302001002",
        "652302101000",
        "652302101001",
        "652302101002",
    ]
    assert shown[COUNTY]["veterans"] == 5
    assert shown["652302001000"]["veterans"] == 3  # its two villages
    assert shown["652302001000"]["employment_rate"] == "66.7%"
    assert shown["652302001001"]["veterans"] == 2
    assert shown["652302101000"]["veterans"] == 1 and shown["652302101001"]["veterans"] == 0
    assert shown["652302001001"]["trained"] is None  # training does not know stations
    table = vetctl("report", "--county", COUNTY, "--stations")
    assert "652302001001" in table and "登记退役军人" in table


def test_export_by_station_writes_the_townships_cards_with_their_station(
    system, vetctl, rpc, tmp_path
):
    for station in ("652302001001", "652302001002", "652302101001", None):
        rpc.registry.register_veteran(make_veteran(county_code=COUNTY, station_code=station))
    out = tmp_path / "站.csv"
    vetctl("export", "veterans", "--station", "652302001000", "--format", "csv", "-o", out)
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["station_code"] for row in rows) == ["652302001001", "652302001002"]


def test_the_demo_ledger_rolls_up_village_to_township_to_county(system, vetctl):
    vetctl("demo", "--veterans", "60")
    jurisdiction = Jurisdiction.load()
    for county in ("652301", "652323"):
        shown = json.loads(
            vetctl("report", "--county", county, "--stations", "--format", "json", "--lang", "en")
        )["areas"]
        stations = jurisdiction.stations_of(county)
        villages = [s.code for s in stations if s.level == "village"]
        townships = [s.code for s in stations if s.level == "township"]
        # every demo card is at a village: the villages add up to the county ...
        assert sum(shown[code]["veterans"] for code in villages) == shown[county]["veterans"]
        # ... and each township to its villages
        for township in townships:
            assert shown[township]["veterans"] == sum(
                shown[code]["veterans"] for code in villages if within(code, township)
            )
    assert shown[county]["veterans"] > 0
