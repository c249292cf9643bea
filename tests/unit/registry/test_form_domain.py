"""The ministry's annual form computed from a generated cohort whose column totals are known
by construction: every column, the overlaps the precedence rule resolves, the checks, and a
ledger that does not add up flagged rather than summed."""

import random
from collections import Counter

import pytest

from services.registry.form_domain import Member, check, classify, compute
from services.registry.form_file import DEFAULT_PATH, load_definition

DEFINITION = load_definition()
AREAS = [("652301", "昌吉市"), ("652302", "阜康市"), ("652323", "呼图壁县")]
URBAN = ("employed", "flexible", "public_welfare_post", "self_employed")
WAITING = ("unemployed", "in_training", "not_seeking")
ANY_STATUS = (*URBAN, *WAITING, "back_to_school", "returned_farming")


def generated_cohort(seed):
    """Members and, per area, the form's expected values, built column by column: each
    member is made for one column, with the overlaps a real ledger has (a founder whose
    status says something else, a founder of several kinds)."""
    rnd = random.Random(seed)
    members, expected = [], {code: Counter() for code, _ in AREAS}

    def add(area, column, status, kinds=(), **marks):
        members.append(Member(f"v{len(members)}", area, status, tuple(kinds), **marks))
        expected[area]["A"] += 1
        expected[area][column] += 1

    for area, _ in AREAS:
        for _ in range(rnd.randint(1, 6)):
            add(area, "B", "back_to_school")
        for _ in range(rnd.randint(0, 4)):
            add(area, "C", "admitted_by_exam")
        for _ in range(rnd.randint(3, 12)):
            trained = rnd.random() < 0.4
            add(area, "E", rnd.choice(URBAN), trained=trained)
            expected[area]["F"] += trained
        for _ in range(rnd.randint(0, 5)):
            add(area, "G", "returned_farming", trained=rnd.random() < 0.5)
        # 创业: the booklet wins over any status; a founder of several kinds counts once.
        for _ in range(rnd.randint(1, 4)):
            kinds = rnd.choice([("enterprise",), ("enterprise", "individual_business")])
            add(area, "I", rnd.choice(ANY_STATUS), kinds)
        for _ in range(rnd.randint(1, 4)):
            add(area, "J", rnd.choice(ANY_STATUS), ("individual_business",))
        for _ in range(rnd.randint(0, 3)):
            kinds = rnd.choice([("cooperative",), ("individual_business", "cooperative")])
            add(area, "K", rnd.choice(ANY_STATUS), kinds, trained=True)
        for _ in range(rnd.randint(2, 9)):
            difficulty = rnd.random() < 0.5
            helped = difficulty and rnd.random() < 0.6
            add(area, "L", rnd.choice(WAITING), difficulty=difficulty, helped=helped)
            expected[area]["L_difficulty"] += difficulty
            expected[area]["L_helped"] += helped
        # Marks outside their column count nowhere: help recorded for someone employed.
        add(area, "E", "employed", difficulty=True, helped=True)
    for values in expected.values():
        values["H"] = values["I"] + values["J"] + values["K"]
        values["D"] = values["E"] + values["G"] + values["H"]
    rnd.shuffle(members)
    return members, expected


@pytest.mark.parametrize("seed", range(5))
def test_a_generated_cohort_gives_the_totals_it_was_built_with(seed):
    members, expected = generated_cohort(seed)

    form = compute(2025, {"level": "prefecture"}, AREAS, members, DEFINITION)

    for row in form["rows"]:
        wanted = expected[row["area"]]
        assert row["values"] == {key: wanted[key] for key in DEFINITION.keys()}
    total = Counter()
    for values in expected.values():
        total.update(values)
    assert form["total"] == {key: total[key] for key in DEFINITION.keys()}
    assert form["ok"] and all(c["ok"] for c in form["checks"])
    assert form["unclassified"] == []
    assert form["rate"]["value"] == f"{total['D'] / total['A']:.4f}"


def test_every_check_of_the_form_is_verified_on_every_row_and_the_total():
    members, _ = generated_cohort(1)

    form = compute(2025, {"level": "prefecture"}, AREAS, members, DEFINITION)

    rules = Counter(c["rule"] for c in form["checks"] if c["area"] is not None)
    assert rules["A = B + C + D + L"] == len(AREAS)
    assert rules["D = E + G + H"] == len(AREAS)
    assert rules["H = I + J + K"] == len(AREAS)
    total_rules = {c["rule"] for c in form["checks"] if c["area"] is None}
    assert {"A = B + C + D + L", "D = E + G + H", "H = I + J + K", "F ≤ E"} <= total_rules
    assert "合计A = 各行A之和" in total_rules


def test_a_ledger_that_does_not_add_up_is_flagged_not_summed():
    members, expected = generated_cohort(2)
    # Two cards still on the legacy 升学 code: neither 复学 nor 考试入学.
    members += [
        Member("legacy-1", "652302", "further_education"),
        Member("legacy-2", "652302", "further_education", trained=True),
    ]

    form = compute(2025, {"level": "prefecture"}, AREAS, members, DEFINITION)

    failed = [c for c in form["checks"] if not c["ok"]]
    assert {(c["rule"], c["area"]) for c in failed} == {
        ("A = B + C + D + L", "652302"),
        ("A = B + C + D + L", None),
    }
    row = next(r for r in form["rows"] if r["area"] == "652302")
    assert row["values"]["A"] == expected["652302"]["A"] + 2  # counted, but in no column
    assert row["values"]["B"] + row["values"]["C"] == (
        expected["652302"]["B"] + expected["652302"]["C"]
    )
    assert [u["veteran_id"] for u in form["unclassified"]] == ["legacy-1", "legacy-2"]
    assert all("further_education" in u["reason"] for u in form["unclassified"])
    assert form["ok"] is False


def test_checks_catch_a_typed_in_row_whose_subtotals_are_wrong():
    values = dict.fromkeys(DEFINITION.keys(), 0)
    values.update(A=11, B=1, C=1, D=7, E=3, F=4, G=1, H=2, I=1, J=0, K=0, L=2)
    values.update(L_difficulty=1, L_helped=2)

    results = {r["rule"]: r for r in check(values, DEFINITION)}

    assert results["A = B + C + D + L"]["ok"]
    assert results["D = E + G + H"] == {"rule": "D = E + G + H", "ok": False, "left": 7, "right": 6}
    assert not results["H = I + J + K"]["ok"]
    assert not results["F ≤ E"]["ok"]
    assert not results["L_helped ≤ L_difficulty"]["ok"]
    assert results["L_difficulty ≤ L"]["ok"]


def test_a_member_of_an_area_not_asked_for_gets_its_own_row_so_rows_add_up():
    members = [Member("a", "652301", "employed"), Member("b", "652301001000", "unemployed")]

    form = compute(2025, {"level": "county"}, [("652301", "昌吉市")], members, DEFINITION)

    assert [(r["area"], r["values"]["A"]) for r in form["rows"]] == [
        ("652301", 1),
        ("652301001000", 1),
    ]
    assert form["ok"]


def test_an_empty_cohort_has_no_rate_rather_than_a_division_by_zero():
    form = compute(2025, {"level": "prefecture"}, AREAS, [], DEFINITION)

    assert form["total"]["A"] == 0 and form["rate"]["value"] is None and form["ok"]
    assert "D" in form["rate"]["definition"] and "A" in form["rate"]["definition"]


def test_precedence_puts_a_founder_under_the_business_whatever_the_status_says():
    founder = Member("x", "652301", "back_to_school", ("individual_business", "cooperative"))

    assert classify(founder, DEFINITION) == ("K", None)
    assert classify(Member("y", "652301", "self_employed"), DEFINITION) == ("E", None)


def test_a_definition_naming_a_column_it_does_not_define_is_refused(tmp_path):
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    broken = tmp_path / "form.yaml"
    broken.write_text(text.replace("returned_farming: G", "returned_farming: Z"), "utf-8")

    with pytest.raises(ValueError, match="Z"):
        load_definition(broken)
