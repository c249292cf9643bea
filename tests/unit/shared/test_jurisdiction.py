import pytest
from marshmallow import ValidationError

from shared.jurisdiction import Jurisdiction, county_validator

DEFAULT_COUNTIES = {
    "652301": "昌吉市",
    "652302": "阜康市",
    "652323": "呼图壁县",
    "652324": "玛纳斯县",
    "652325": "奇台县",
    "652327": "吉木萨尔县",
    "652328": "木垒哈萨克自治县",
}


def write(tmp_path, counties: str, prefecture: str = '{code: "6523", name: 昌吉回族自治州}'):
    path = tmp_path / "jurisdiction.yaml"
    path.write_text(f"prefecture: {prefecture}\ncounties:\n{counties}", encoding="utf-8")
    return path


def test_the_default_jurisdiction_is_changji_with_its_seven_counties():
    j = Jurisdiction.load()
    assert (j.prefecture_code, j.prefecture_name) == ("6523", "昌吉回族自治州")
    assert j.counties == DEFAULT_COUNTIES
    assert j.codes() == sorted(DEFAULT_COUNTIES)


def test_contains_and_name_of_look_up_counties():
    j = Jurisdiction.load()
    assert j.contains("652328")
    assert not j.contains("110101")
    assert not j.contains(652301)
    assert j.name_of("652325") == "奇台县"
    assert j.name_of("110101") is None


def test_load_caches_per_path():
    assert Jurisdiction.load() is Jurisdiction.load()


def test_a_county_outside_the_prefecture_makes_loading_fail_naming_it(tmp_path):
    path = write(tmp_path, '  "652301": 昌吉市\n  "110101": 东城区\n')
    with pytest.raises(ValueError, match="110101"):
        Jurisdiction.load(path)


def test_a_county_code_that_is_not_six_digits_makes_loading_fail_naming_it(tmp_path):
    path = write(tmp_path, '  "65230": 昌吉市\n')
    with pytest.raises(ValueError, match="65230"):
        Jurisdiction.load(path)


def test_an_unquoted_county_code_makes_loading_fail(tmp_path):
    path = write(tmp_path, "  652301: 昌吉市\n")
    with pytest.raises(ValueError, match="652301"):
        Jurisdiction.load(path)


def test_a_well_formed_custom_file_loads(tmp_path):
    path = write(tmp_path, '  "650102": 天山区\n', prefecture='{code: "6501", name: 乌鲁木齐市}')
    j = Jurisdiction.load(path)
    assert j.counties == {"650102": "天山区"}
    assert j.prefecture_name == "乌鲁木齐市"


def test_the_county_validator_rejects_a_county_outside_the_jurisdiction():
    with pytest.raises(ValidationError, match=r"^not a county of 昌吉回族自治州$"):
        county_validator()("110101")


def test_the_county_validator_accepts_a_county_inside_the_jurisdiction():
    assert county_validator()("652301") is None


@pytest.mark.parametrize("value", [None, 652301, ["652301"], {"a": 1}])
def test_the_county_validator_rejects_non_strings_without_crashing(value):
    with pytest.raises(ValidationError):
        county_validator()(value)


def test_the_county_validator_uses_a_given_jurisdiction():
    j = Jurisdiction("6501", "乌鲁木齐市", {"650102": "天山区"})
    county_validator(j)("650102")
    with pytest.raises(ValidationError, match="乌鲁木齐市"):
        county_validator(j)("652301")


# -- stations --------------------------------------------------------------------------------
from shared.jurisdiction import TOWNSHIP, VILLAGE, station_validator, within, within_any  # noqa: E402


def write_stations(tmp_path, stations: str):
    return write(tmp_path, '  "652301": 昌吉市\n  "652302": 阜康市\nstations:\n' + stations)


GOOD = """  "652301":
    "652301001000":
      name: 宁边路街道
      villages: {"652301001001": 一社区, "652301001002": 二社区}
"""


def test_every_county_of_the_default_file_has_townships_with_villages():
    j = Jurisdiction.load()
    for county in j.codes():
        stations = j.stations_of(county)
        townships = [s for s in stations if s.level == TOWNSHIP]
        assert 2 <= len(townships) <= 3, county
        for township in townships:
            villages = [s for s in stations if s.level == VILLAGE and within(s.code, township.code)]
            assert 2 <= len(villages) <= 3, township.code
    assert all(len(code) == 12 and code.isdigit() for code in j.stations)


def test_the_default_file_says_its_stations_are_demo_data():
    from shared.jurisdiction import DEFAULT_PATH

    assert "DEMO DATA IN THE OFFICIAL FORMAT" in DEFAULT_PATH.read_text(encoding="utf-8")


def test_a_well_formed_station_list_loads_with_levels_and_counties(tmp_path):
    j = Jurisdiction.load(write_stations(tmp_path, GOOD))
    assert j.station("652301001000").level == TOWNSHIP
    village = j.station("652301001002")
    assert (village.level, village.county_code, village.name) == (VILLAGE, "652301", "二社区")
    assert village.township_code == "652301001000"
    assert j.station("652301001009") is None and j.station(652301001001) is None


@pytest.mark.parametrize(
    "stations,names",
    [
        # a township code not ending in 000
        ('  "652301":\n    "652301001001": {name: 街道}\n', "652301001001"),
        # a township outside its county
        ('  "652301":\n    "652302001000": {name: 街道}\n', "652302001000"),
        # not 12 digits, or not ASCII digits
        ('  "652301":\n    "65230100100": {name: 街道}\n', "65230100100"),
        ('  "652301":\n    "６52301001000": {name: 街道}\n', "６52301001000"),
        # a village under another township
        (
            '  "652301":\n    "652301001000": {name: 街道, villages: {"652301002001": 村}}\n',
            "652301002001",
        ),
        # a village whose code is a township's
        (
            '  "652301":\n    "652301001000": {name: 街道, villages: {"652301001000": 村}}\n',
            "652301001000",
        ),
        # stations of a county the file does not have
        ('  "652399":\n    "652399001000": {name: 街道}\n', "652399"),
        # a township without a name
        ('  "652301":\n    "652301001000": {villages: {}}\n', "652301001000"),
    ],
)
def test_a_bad_station_makes_loading_fail_naming_it(tmp_path, stations, names):
    with pytest.raises(ValueError, match=names):
        Jurisdiction.load(write_stations(tmp_path, stations))


def test_a_station_listed_twice_makes_loading_fail(tmp_path):
    twice = GOOD + '    "652301001000":\n      name: 又一个\n'
    with pytest.raises(ValueError, match=r"652301001000.*twice"):
        Jurisdiction.load(write_stations(tmp_path, twice))
    village_twice = (
        '  "652301":\n    "652301001000":\n      name: 街道\n'
        '      villages: {"652301001001": 一, "652301001001": 二}\n'
    )
    with pytest.raises(ValueError, match=r"652301001001.*twice"):
        Jurisdiction.load(write_stations(tmp_path, village_twice))


def test_a_township_covers_its_villages_and_nothing_else():
    assert within("652301001002", "652301001000")
    assert within("652301001000", "652301001000")
    assert not within("652301001000", "652301001002")  # a village does not cover its township
    assert not within("652301002001", "652301001000")
    assert not within("652301001002", "652301001001")
    assert not within(None, "652301001000") and not within("652301001001", None)
    assert within_any("652301002001", ["652301001001", "652301002000"])
    assert not within_any(None, ["652301001000"]) and not within_any("652301001001", None)


def test_covered_and_roll_up():
    j = Jurisdiction.load()
    assert j.covered(["652301001000"]) == [
        "652301001000",
        "652301001001",
        "652301001002",
        "652301001003",
    ]
    assert j.covered(["652302101002"]) == ["652302101002"]
    assert j.roll_up("652301001002") == ["652301001002", "652301001000", "652301"]
    assert j.roll_up("652301001000") == ["652301001000", "652301"]
    with pytest.raises(KeyError):
        j.roll_up("652301999000")


def test_the_station_validator_accepts_only_known_stations():
    assert station_validator()("652301001001") is None
    for value in ("652301999001", "652301", None, 652301001001):
        with pytest.raises(ValidationError, match="not a township or village station"):
            station_validator()(value)
