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
