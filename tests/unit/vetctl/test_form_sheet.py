"""The annual form as a file to file upward: the xlsx opened with openpyxl has the form's
headers, the column letters and the figures where the form has them; the csv too."""

import csv

import openpyxl

from services.registry.form_domain import Member, compute
from services.registry.form_file import load_definition
from vetctl import form_sheet

AREAS = [("652301", "昌吉市"), ("652302", "阜康市")]


def a_form(members=None):
    members = members or [
        Member("1", "652301", "employed", trained=True),
        Member("2", "652301", "back_to_school"),
        Member("3", "652301", "unemployed", difficulty=True, helped=True),
        Member("4", "652302", "returned_farming"),
        Member("5", "652302", "unemployed", ("cooperative",)),
        Member("6", "652302", "admitted_by_exam"),
    ]
    form = compute(
        2025, {"level": "prefecture", "name": "昌吉回族自治州"}, AREAS, members, load_definition()
    )
    return {**form, "generated_at": "2026-12-08T09:00:00+06:00"}


def test_the_xlsx_has_the_forms_headers_letters_and_figures(tmp_path):
    path = tmp_path / "form.xlsx"

    form_sheet.write_xlsx(path, a_form(), "2026-12-08 09:00")

    sheet = openpyxl.load_workbook(path).active
    assert sheet["A1"].value == "2025年度新增自主就业退役士兵就业及去向情况表"
    assert "昌吉回族自治州" in sheet["A2"].value
    # Row 3: 地区 and 总数 span two rows; the groups span their columns.
    assert sheet["A3"].value == "地区" and sheet["B3"].value == "总数"
    assert sheet["C3"].value == "学历提升" and sheet["C4"].value == "复学"
    assert sheet["D4"].value == "考试入学"
    assert sheet["E3"].value == "已就业" and sheet["L4"].value == "农民专业合作社"
    assert sheet["M3"].value == "待就业" and sheet["M4"].value == "待就业"
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:O1", "A3:A4", "B3:B4", "C3:D3", "E3:L3", "M3:O3"} <= merged
    letters = [c.value for c in sheet[5]]
    assert letters[1:] == [*"ABCDEFGHIJKL", "L_difficulty", "L_helped"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=6, max_row=8)]
    #            地区      A  B  C  D  E  F  G  H  I  J  K  L  困难 帮扶
    assert rows[0] == ["昌吉市", 3, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1]
    assert rows[1] == ["阜康市", 3, 0, 1, 2, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0]
    assert rows[2] == ["合计", 6, 1, 1, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1]
    notes = [sheet.cell(r, 1).value for r in range(10, 14)]
    assert notes[0] == "就业创业率：50.00%"
    assert notes[1].startswith("口径：就业创业率 = 已就业（D）÷ 总数（A）")
    assert notes[3].startswith("校验：") and "全部通过" in notes[3]


def test_a_failing_check_is_written_on_the_form_not_hidden(tmp_path):
    path = tmp_path / "form.xlsx"
    form = a_form([Member("1", "652301", "employed"), Member("2", "652301", "further_education")])

    form_sheet.write_xlsx(path, form, "2026-12-08 09:00")

    sheet = openpyxl.load_workbook(path).active
    texts = [c.value for c in sheet["A"] if isinstance(c.value, str)]
    assert "校验未通过：昌吉市 A = B + C + D + L（2 ≠ 1）" in texts
    assert "校验未通过：合计 A = B + C + D + L（2 ≠ 1）" in texts
    assert any(t.startswith("无法归类、只计入总数的卡片：1 张") for t in texts)


def test_the_csv_has_a_header_per_column_and_the_total_last(tmp_path):
    path = tmp_path / "form.csv"

    form_sheet.write_csv(path, a_form())

    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0][:4] == ["地区", "A 总数", "B 复学", "C 考试入学"]
    assert lines[0][-2:] == ["L_difficulty 其中认定就业困难", "L_helped 其中接受就业困难帮扶"]
    assert lines[-1][:2] == ["合计", "6"] and len(lines) == 4
