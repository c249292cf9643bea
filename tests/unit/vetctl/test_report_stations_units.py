"""vetctl report's station columns without servers: ``collect_stations`` asks registry's
``stats`` once per station of the county (others None), and ``--stations`` adds a column
per station to the JSON, keeping the county's."""

import json

from click.testing import CliRunner

from shared.jurisdiction import Jurisdiction
from vetctl import SERVICES, main
from vetctl import report as reports


class FakeClient:
    """Answers registry's stats with the station's village count as its veterans."""

    def __init__(self):
        self.calls = []

    def try_call(self, service, method, *args):
        self.calls.append((service, method, *args))
        if service != "registry" or method != "stats":
            return None
        station = args[1] if len(args) > 1 else None
        return {"veterans": 10 if station is None else int(station[-3:]) + 1}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_collect_stations_asks_registry_for_each_station_of_the_county():
    client = FakeClient()
    stations = reports.collect_stations(client, "652302")
    codes = [s.code for s in Jurisdiction.load().stations_of("652302")]
    assert list(stations) == codes and len(codes) == 6
    assert all(set(entry) == set(SERVICES) for entry in stations.values())
    assert stations["652302001002"]["registry"] == {"veterans": 3}
    assert all(entry[s] is None for entry in stations.values() for s in SERVICES if s != "registry")
    assert client.calls == [("registry", "stats", "652302", code) for code in codes]


def test_report_with_stations_adds_a_column_per_station(monkeypatch):
    from vetctl import settings as settings_module

    client = FakeClient()
    monkeypatch.setattr(settings_module.Settings, "client", lambda self: client)
    result = CliRunner().invoke(
        main.cli, ["report", "--county", "652302", "--stations", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    shown = document["areas"]
    assert list(shown) == ["652302", *[s.code for s in Jurisdiction.load().stations_of("652302")]]
    assert shown["652302"]["veterans"] == 10
    assert shown["652302101000"]["veterans"] == 1 and shown["652302101002"]["veterans"] == 3
    names = Jurisdiction.load()
    assert document["area_names"]["652302101000"] == names.station("652302101000").name


def test_stations_needs_a_county():
    result = CliRunner().invoke(main.cli, ["report", "--stations"])
    assert result.exit_code == 2 and "--stations needs --county" in result.stderr


def test_a_sheets_station_column_is_read_as_station_code_and_exported():
    from vetctl import records, sheets

    fields, unknown = sheets.columns_for(["姓名", "服务站代码", "站点代码"], sheets.VETERAN_HEADERS)
    assert fields == ["name", "station_code", "station_code"] and unknown == []
    assert (
        records.EXPORT_COLUMNS.index("station_code")
        == records.EXPORT_COLUMNS.index("county_code") + 1
    )
