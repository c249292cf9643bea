import datetime as dt
import re

import pytest
from marshmallow import Schema, ValidationError, fields

from shared.taxonomy import Code, Taxonomy, code_of

REQUIRED = {
    "employment_status": {
        "unemployed": "未就业",
        "employed": "已就业",
        "self_employed": "自主创业",
        "flexible": "灵活就业",
        "public_welfare_post": "公益性岗位",
        "in_training": "培训中",
        "further_education": "升学（旧，未区分复学/考试入学）",
        "back_to_school": "复学",
        "admitted_by_exam": "考试入学",
        "returned_farming": "返乡务农",
        "not_seeking": "暂无意愿",
    },
    "willingness": {"job": "就业", "business": "创业", "training": "培训", "none": "暂无"},
    "service_needs": {
        "job_referral",
        "skills_training",
        "startup_loan",
        "startup_guidance",
        "policy_consultation",
        "legal_aid",
        "psychological_support",
    },
    "discharge_type": {
        "self_employment": "自主就业",
        "assigned_job": "安排工作",
        "retired": "退休",
        "supported": "供养",
        "monthly_pension": "逐月领取退役金",
        "transfer": "转业",
        "demobilised": "复员",
    },
    "branch": {
        "army": "陆军",
        "navy": "海军",
        "air_force": "空军",
        "rocket_force": "火箭军",
        "armed_police": "武警部队",
        "joint_logistics": "联勤保障部队",
        "aerospace_force": "军事航天部队",
        "cyberspace_force": "网络空间部队",
        "information_support_force": "信息支援部队",
        "strategic_support_force": "战略支援部队",
        "other": "其他",
    },
    "political_status": {
        "cpc_member": "中共党员",
        "cpc_probationary": "中共预备党员",
        "cyl_member": "共青团员",
        "democratic_party": "民主党派成员",
        "non_partisan": "无党派人士",
        "masses": "群众",
    },
    "honours": {
        "first_class_merit": "一等功",
        "second_class_merit": "二等功",
        "third_class_merit": "三等功",
        "honorary_title": "荣誉称号",
        "commendation": "嘉奖",
    },
    "health": {"healthy": "健康", "chronic_illness": "患病", "disabled": "伤残"},
    "skill_level": {
        "level_5": "五级/初级工",
        "level_4": "四级/中级工",
        "level_3": "三级/高级工",
        "level_2": "二级/技师",
        "level_1": "一级/高级技师",
    },
    "difficulty_reason": {"other"},
    "difficulty_help": {"other"},
    "difficulty_outcome": {"other"},
    "skills": {
        "driver_b2",
        "driver_a2",
        "fire_facility_operator",
        "drone_pilot",
        "security_guard",
        "electrician",
        "welder",
        "cook",
        "logistics",
        "ecommerce",
        "auto_repair",
        "construction",
        "agriculture",
        "it_support",
    },
    "occupations": {
        "driver",
        "security_guard",
        "fire_facility_operator",
        "drone_pilot",
        "logistics_clerk",
        "auxiliary_police",
        "village_cadre",
        "electrician",
        "cook",
        "sales",
        "warehouse",
        "farm_technician",
    },
    "industries": {
        "logistics",
        "ecommerce",
        "agriculture",
        "manufacturing",
        "construction",
        "catering",
        "retail",
        "security_services",
        "transport",
        "it_services",
        "tourism",
        "other",
    },
    "enterprise_kind": {"enterprise": "企业", "individual_business": "个体工商户"},
    "enterprise_stage": {"startup": "初创期", "operating": "经营期", "closed": "已关闭"},
    "education": {
        "primary",
        "junior_middle",
        "senior_middle",
        "vocational",
        "junior_college",
        "bachelor",
        "master",
        "doctor",
    },
}

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def taxonomy():
    return Taxonomy.load()


@pytest.mark.parametrize("category", sorted(REQUIRED))
def test_every_required_code_is_present(taxonomy, category):
    assert set(REQUIRED[category]) <= taxonomy.codes(category)


@pytest.mark.parametrize("category", sorted(c for c, v in REQUIRED.items() if isinstance(v, dict)))
def test_required_codes_carry_the_prescribed_labels(taxonomy, category):
    for code, label in REQUIRED[category].items():
        assert taxonomy.label(category, code) == label


def test_the_packaged_file_has_the_required_categories_and_the_card_fields(taxonomy):
    assert set(taxonomy.categories()) == set(REQUIRED) | {
        "ethnicity",
        "rank_category",
        "consent_scope",
        "fair_mode",
    }


def test_the_rank_category_says_junshi_and_the_cooperative_is_an_enterprise_kind(taxonomy):
    assert taxonomy.label("rank_category", "nco") == "军士"
    assert taxonomy.label("enterprise_kind", "cooperative") == "农民专业合作社"


def test_old_codes_and_labels_map_to_current_codes(taxonomy):
    assert taxonomy.current("rank_category", "士官") == "nco"
    assert taxonomy.current("employment_status", "升学") == "further_education"
    assert taxonomy.current("rank_category", "nco") == "nco"
    assert taxonomy.current("rank_category", "将军") == "将军"  # unknown stays, to be refused


def test_an_occupation_named_by_its_dadian_code_is_ours_and_unknown_codes_stay_null(taxonomy):
    assert taxonomy.current("occupations", "4-07-05-04") == "fire_facility_operator"
    assert taxonomy.occupation_code("fire_facility_operator") == {
        "code": "4-07-05-04",
        "confirmed": True,
    }
    assert taxonomy.occupation_code("drone_pilot") == {"code": "4-02-04-06", "confirmed": False}
    known = {o for o in taxonomy.codes("occupations") if taxonomy.occupation_code(o)}
    assert known == {"fire_facility_operator", "drone_pilot"}  # none invented


def test_branch_periods_come_from_the_data_file(taxonomy):
    periods = taxonomy.branch_periods()
    assert periods["strategic_support_force"] == (None, dt.date(2024, 4, 19))
    assert periods["aerospace_force"] == (dt.date(2024, 4, 19), None)
    assert "army" not in periods


def test_an_alias_to_no_current_code_is_refused_when_the_file_loads():
    with pytest.raises(ValueError, match="colour"):
        Taxonomy({"colour": {"red": "红"}}, aliases={"colour": {"赤": "crimson"}})


class Card(Schema):
    rank = Code("rank_category")
    occupation = Code("occupations")


def test_the_code_field_loads_an_alias_as_the_current_code_and_refuses_the_unknown():
    assert Card().load({"rank": "士官", "occupation": "4-02-04-06"}) == {
        "rank": "nco",
        "occupation": "drone_pilot",
    }
    with pytest.raises(ValidationError) as caught:
        Card().load({"rank": "general"})
    assert caught.value.messages == {"rank": ["not a rank_category code"]}


def test_every_label_is_a_non_empty_chinese_string(taxonomy):
    for category in taxonomy.categories():
        for code in taxonomy.codes(category):
            label = taxonomy.label(category, code)
            assert isinstance(label, str) and label.strip(), (category, code)
            assert CJK.search(label), (category, code, label)


def test_every_code_is_lowercase_snake_case_ascii(taxonomy):
    for category in taxonomy.categories():
        for code in taxonomy.codes(category):
            assert isinstance(code, str) and SNAKE_CASE.match(code), (category, code)


def test_label_of_an_unknown_code_is_the_code_itself(taxonomy):
    assert taxonomy.label("skills", "juggling") == "juggling"


def test_unknown_returns_unknown_codes_in_input_order_without_duplicates(taxonomy):
    values = ["welder", "zz_b", "cook", "aa_a", "zz_b", "welder", "aa_a"]
    assert taxonomy.unknown("skills", values) == ["zz_b", "aa_a"]


def test_unknown_is_empty_when_every_value_is_known(taxonomy):
    assert taxonomy.unknown("branch", ["army", "navy"]) == []


def test_an_unknown_category_raises_key_error_naming_it(taxonomy):
    with pytest.raises(KeyError, match="no_such_category"):
        taxonomy.codes("no_such_category")


def test_is_valid_tells_known_from_unknown_codes(taxonomy):
    assert taxonomy.is_valid("willingness", "job")
    assert not taxonomy.is_valid("willingness", "JOB")


def test_a_taxonomy_can_be_built_from_a_mapping():
    tx = Taxonomy({"colour": {"red": "红"}})
    assert tx.codes("colour") == frozenset({"red"})
    assert tx.label("colour", "red") == "红"


def test_load_caches_per_path(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("colour: {red: 红}\n", encoding="utf-8")
    assert Taxonomy.load(path) is Taxonomy.load(path)
    assert Taxonomy.load() is Taxonomy.load()
    assert Taxonomy.load(path) is not Taxonomy.load()


def test_the_validator_rejects_an_unknown_code():
    with pytest.raises(ValidationError, match=r"^not a skills code$"):
        code_of("skills")("juggling")


def test_the_validator_accepts_a_known_code():
    assert code_of("skills")("drone_pilot") is None


def test_the_validator_uses_a_given_taxonomy():
    validate = code_of("colour", Taxonomy({"colour": {"red": "红"}}))
    validate("red")
    with pytest.raises(ValidationError):
        validate("welder")


def test_the_validator_checks_each_item_of_a_list_field():
    class Profile(Schema):
        skills = fields.List(fields.String(validate=code_of("skills")))

    assert Profile().load({"skills": ["cook", "welder"]}) == {"skills": ["cook", "welder"]}
    errors = Profile().validate({"skills": ["cook", "juggling"]})
    assert errors == {"skills": {1: ["not a skills code"]}}
