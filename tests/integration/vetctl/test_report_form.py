"""``vetctl report form`` against the running registry: the xlsx in the form's layout opened
with openpyxl (headers and cells where the form has them), csv and json, and exit code 1
with the failing check named when the ledger does not add up."""

import json

import openpyxl

from tests.factories import make_veteran

YEAR = 2025


def cohort(rpc, county, status, **more):
    return rpc.registry.register_veteran(
        make_veteran(
            county_code=county,
            discharged_on=f"{YEAR}-07-01",
            enlisted_on="2020-09-01",
            discharge_type="self_employment",
            employment_status=status,
            employer="昌吉市物流公司" if status == "employed" else None,
            **more,
        )
    )["id"]


def test_the_form_as_xlsx_csv_and_json(system, vetctl, rpc, tmp_path):
    cohort(rpc, "652301", "employed")
    cohort(rpc, "652301", "returned_farming")
    cohort(rpc, "652302", "admitted_by_exam")
    cohort(rpc, "652302", "unemployed")

    out = tmp_path / "情况表.xlsx"
    assert "form written" in vetctl("report", "form", "--year", YEAR, "--format", "xlsx", "-o", out)
    sheet = openpyxl.load_workbook(out).active
    assert sheet["A1"].value == f"{YEAR}年度新增自主就业退役士兵就业及去向情况表"
    assert (sheet["A3"].value, sheet["B3"].value, sheet["C3"].value) == ("地区", "总数", "学历提升")
    assert [c.value for c in sheet[5]][1:13] == list("ABCDEFGHIJKL")
    changji = [c.value for c in sheet[6]][:13]
    assert changji == ["昌吉市", 2, 0, 0, 2, 1, 0, 1, 0, 0, 0, 0, 0]
    fukang = [c.value for c in sheet[7]][:13]
    assert fukang == ["阜康市", 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    total_row = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "合计")
    assert total_row[:13] == ("合计", 4, 0, 1, 2, 1, 0, 1, 0, 0, 0, 0, 1)
    notes = [c.value for c in sheet["A"] if isinstance(c.value, str)]
    assert "就业创业率：50.00%" in notes

    csv_out = tmp_path / "情况表.csv"
    vetctl("report", "form", "--year", YEAR, "--county", "652302", "--format", "csv", "-o", csv_out)
    lines = csv_out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("地区,A 总数,B 复学") and lines[-1].startswith("合计,2,0,1,")

    document = json.loads(vetctl("report", "form", "--year", YEAR, "--format", "json"))
    assert document["total"]["A"] == 4 and document["ok"] and document["rate"]["value"] == "0.5000"
    table = vetctl("report", "form", "--year", YEAR)
    assert "A 总数" in table and "就业创业率：50.00%" in table


def test_a_form_that_does_not_add_up_is_written_with_its_failure_and_exit_1(
    system, vetctl, rpc, tmp_path
):
    cohort(rpc, "652301", "employed")
    legacy = cohort(rpc, "652301", "further_education")

    out = tmp_path / "情况表.xlsx"
    reason = vetctl("report", "form", "--year", YEAR, "--format", "xlsx", "-o", out, expect=1)
    assert "2 check(s) of the form fail" in reason and "1 card(s) fit no column" in reason
    texts = [c.value for c in openpyxl.load_workbook(out).active["A"] if isinstance(c.value, str)]
    assert "校验未通过：昌吉市 A = B + C + D + L（2 ≠ 1）" in texts
    document = json.loads(
        vetctl("report", "form", "--year", YEAR, "--format", "json", expect=1).split("\nvetctl:")[0]
    )
    assert [u["veteran_id"] for u in document["unclassified"]] == [legacy]
