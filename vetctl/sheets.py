"""Spreadsheets in and out: ``.xlsx`` (openpyxl, read-only and write-only so a large file
streams) and ``.csv`` in UTF-8 or GB18030, with Chinese or English column headers. Cells
become the RPCs' payloads: Chinese labels of codes (and old labels, the taxonomy's aliases)
become codes, lists split on 、，,; and
dates and numbers from Excel become ISO strings and integers. What goes out is data: no
cell is written so that a spreadsheet would run it as a formula."""

import codecs
import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

from shared.taxonomy import Taxonomy

LIST_SEPARATORS = ("、", "，", ",", ";", "；", "|")

VETERAN_HEADERS = {
    "id_number": ("身份证号", "身份证号码", "公民身份号码"),
    "name": ("姓名",),
    "phone": ("手机", "手机号", "手机号码", "联系电话"),
    "county_code": ("县市区代码", "区县代码", "县区代码", "所属县市区"),
    "station_code": ("服务站代码", "站点代码", "乡镇（街道）村（社区）代码"),
    "address": ("住址", "地址", "家庭住址"),
    "ethnicity": ("民族",),
    "education": ("学历", "文化程度"),
    "branch": ("军种", "服役军种"),
    "rank_category": ("衔级类别", "退役时衔级"),
    "enlisted_on": ("入伍时间", "入伍日期"),
    "discharged_on": ("退役时间", "退役日期"),
    "discharge_type": ("退役类型", "安置方式"),
    "skills": ("技能", "专业技能"),
    "certificates": ("证书", "职业资格证书"),
    "intentions.occupations": ("意向职业", "求职意向"),
    "intentions.counties": ("意向地区", "意向县市区"),
    "intentions.min_salary": ("最低薪资", "期望薪资"),
    "willingness": ("意愿", "就业创业意愿"),
    "employment_status": ("就业状态",),
    "service_needs": ("服务需求",),
    "employer": ("工作单位", "就业单位"),
    "employed_since": ("入职时间", "就业时间"),
    "notes": ("备注",),
    # The card the national collection keeps (issue 19).
    "political_status": ("政治面貌",),
    "preferential_card_number": ("优待证号", "优待证编号"),
    "health": ("健康状况",),
    "disability_grade": ("伤残等级",),
    "reported_on": ("报到时间", "报到日期"),
    "hukou_place": ("户籍地", "户籍地代码"),
    "placement_place": ("安置地", "安置地代码"),
    "collected_by": ("采集人",),
}
ENTERPRISE_HEADERS = {
    "kind": ("类型", "主体类型"),
    "uscc": ("统一社会信用代码", "信用代码"),
    "name": ("名称", "企业名称", "字号名称"),
    "county_code": ("县市区代码", "区县代码", "所属县市区"),
    "industry": ("行业", "所属行业"),
    "founded_on": ("成立日期", "成立时间"),
    "stage": ("阶段", "经营状态"),
    "founder_id_numbers": ("创办人身份证号", "创始人身份证号", "法人身份证号"),
    "employees": ("员工人数", "从业人数"),
    "veteran_employees": ("退役军人员工数", "吸纳退役军人数"),
    "federation_member": ("退役军人企业家联合会会员", "联合会会员"),
    "incubation_base": ("孵化基地",),
}
# Which taxonomy category a field's codes come from (labels accepted in their place).
CODED = {
    "ethnicity": "ethnicity",
    "education": "education",
    "branch": "branch",
    "rank_category": "rank_category",
    "discharge_type": "discharge_type",
    "skills": "skills",
    "intentions.occupations": "occupations",
    "willingness": "willingness",
    "employment_status": "employment_status",
    "service_needs": "service_needs",
    "political_status": "political_status",
    "health": "health",
    "kind": "enterprise_kind",
    "industry": "industries",
    "stage": "enterprise_stage",
}
LISTS = {
    "skills",
    "certificates",
    "intentions.occupations",
    "intentions.counties",
    "service_needs",
    "founder_id_numbers",
}
DATES = {"enlisted_on", "discharged_on", "employed_since", "founded_on", "reported_on"}
INTEGERS = {"intentions.min_salary", "employees", "veteran_employees", "disability_grade"}
BOOLEANS = {"federation_member"}
TRUE, FALSE = {"是", "true", "yes", "y", "1"}, {"否", "false", "no", "n", "0"}
# Excel keeps 15 significant digits of a number: an 18-digit ID number typed as one comes
# back as another number, which can still pass the check digit. Refused, never rounded.
ID_NUMBERS = {"id_number", "founder_id_numbers"}
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")  # 6.52301E+17, as Excel saves such a cell in CSV
NOT_TEXT = "an ID number must be entered as text, not a number (Excel rounds it)"
MAX_CELL = 32_767  # the most an Excel cell holds; no field of the ledger takes as much
# The csv module's own limit (131,072) would stop the import at a long cell without naming
# its column; up to this one the row is rejected naming both (MAX_CELL). Past it, a quote
# was most likely left open, and the import stops naming the row.
CSV_FIELD_LIMIT = 16 * 1024 * 1024


class SheetError(Exception):
    """The file itself cannot be read (a row's problems are the row's)."""


def columns_for(headers, aliases):
    """Header cells → field names; unknown headers are reported, not guessed."""
    lookup = {}
    for field, names in aliases.items():
        lookup[field] = field
        for name in names:
            lookup[name] = field
    fields, unknown = [], []
    for header in headers:
        text = "" if header is None else str(header).strip()
        field = lookup.get(text)
        fields.append(field)
        if text and field is None:
            unknown.append(text)
    return fields, unknown


ENCODINGS = "accepted encodings: UTF-8 (with or without BOM), GB18030"


def _encoding(path):
    """``(encoding, lines)``: UTF-8 (with or without BOM) if all of the file decodes as
    UTF-8, else GB18030 if all of it decodes as that; else the file is refused. UTF-16
    (Excel's "Unicode text") is refused by its BOM, or by its NUL bytes when it has none:
    both encodings would take those for text."""
    with open(path, "rb") as raw:
        head = raw.read(2)
    if head not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        for encoding in ("utf-8-sig", "gb18030"):
            lines = _lines_if_decoded(path, encoding)
            if lines is not None:
                return encoding, lines
    raise SheetError(f"{path}: the CSV is neither UTF-8 nor GB18030 text; {ENCODINGS}")


def _lines_if_decoded(path, encoding):
    decoder, lines = codecs.getincrementaldecoder(encoding)(), 0
    with open(path, "rb") as raw:
        try:
            for block in iter(lambda: raw.read(1 << 20), b""):
                if b"\0" in block:
                    return None
                decoder.decode(block)
                lines += block.count(b"\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
    return lines


def rows(path):
    """``(headers, iterator of (row number, cells), rows expected or None)`` for a
    spreadsheet file, streamed."""
    path = Path(path)
    if not path.exists():
        raise SheetError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # a zip that is not a workbook, a damaged file
            raise SheetError(f"{path}: not a readable .xlsx file ({type(exc).__name__})") from None
        sheet = book.worksheets[0]
        iterator = sheet.iter_rows(values_only=True)
        headers = next(iterator, None)
        if headers is None:
            raise SheetError(f"{path}: the sheet is empty")
        total = (sheet.max_row - 1) if sheet.max_row else None

        def numbered():
            for number, cells in enumerate(iterator, start=2):
                if any(cell not in (None, "") for cell in cells):
                    yield number, cells
            book.close()

        return list(headers), numbered(), total
    if suffix == ".csv":
        encoding, lines = _encoding(path)
        csv.field_size_limit(CSV_FIELD_LIMIT)
        # The header is read on a handle of its own: the rows' handle is opened by the
        # generator, so a file refused for its header (no ID number column) leaves none open.
        with open(path, encoding=encoding, newline="") as handle:
            try:
                headers = next(csv.reader(handle), None)
            except csv.Error as exc:
                raise SheetError(f"{path}: row 1: not readable as CSV ({exc})") from None
        if headers is None:
            raise SheetError(f"{path}: the file is empty")

        def numbered():
            number = 1
            with open(path, encoding=encoding, newline="") as handle:
                reader = csv.reader(handle)
                next(reader, None)  # the header, read above
                try:
                    for number, cells in enumerate(reader, start=2):
                        if any(cell.strip() for cell in cells):
                            yield number, cells
                except csv.Error as exc:  # in the row after the last one read
                    raise SheetError(
                        f"{path}: row {number + 1}: not readable as CSV ({exc})"
                    ) from None

        return headers, numbered(), max(0, lines - 1)
    raise SheetError(f"{path}: only .xlsx and .csv files can be imported")


class Cells:
    """Turns a row's cells into an RPC payload for the fields given."""

    def __init__(self, fields, taxonomy=None):
        self.fields = fields
        taxonomy = taxonomy or Taxonomy.load()
        self.labels = {}
        for field, category in CODED.items():
            known = taxonomy.codes(category)
            table = {code: code for code in known}
            table.update({taxonomy.label(category, code): code for code in known})
            # Old codes and labels of old sheets (士官 → nco), occupations' 大典 codes.
            table.update(taxonomy.aliases(category))
            self.labels[field] = table

    def problems(self, cells):
        """``(field, message)`` for each cell refused before any RPC sees the row: an ID
        number stored as a number, a cell longer than any spreadsheet cell."""
        found = []
        for field, cell in zip(self.fields, cells, strict=False):  # a short row: cells end
            if field is None:
                continue
            if field in ID_NUMBERS and (
                isinstance(cell, (int, float))
                or (isinstance(cell, str) and SCIENTIFIC.search(cell))
            ):
                found.append((field, NOT_TEXT))
            elif isinstance(cell, str) and len(cell) > MAX_CELL:
                found.append(
                    (
                        field,
                        f"the cell has {len(cell):,} characters, more than "
                        f"a spreadsheet cell holds ({MAX_CELL:,})",
                    )
                )
        return found

    def payload(self, cells):
        data: dict[str, Any] = {}
        for field, cell in zip(self.fields, cells, strict=False):  # a short row: cells end
            if field is None:
                continue
            value = self.value(field, cell)
            if value is None:
                continue
            if "." in field:
                outer, inner = field.split(".", 1)
                data.setdefault(outer, {})[inner] = value
            else:
                data[field] = value
        if "intentions" in data:
            data["intentions"] = {
                "occupations": [],
                "counties": [],
                "min_salary": None,
                **data["intentions"],
            }
        return data

    def value(self, field, cell):
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return [] if field in LISTS else None
        if field in DATES:
            if isinstance(cell, dt.datetime):
                return cell.date().isoformat()
            if isinstance(cell, dt.date):
                return cell.isoformat()
            return str(cell).strip().replace("/", "-").replace(".", "-")
        if field in INTEGERS:
            # The services take whole numbers only as JSON integers: a cell of digits (an
            # Excel number, "4000", full-width "４０００") becomes one; anything else (4000.5,
            # "4千", TRUE) goes as text, for the service to refuse naming the field.
            if isinstance(cell, float) and cell.is_integer():
                return int(cell)
            if isinstance(cell, int) and not isinstance(cell, bool):
                return cell
            text = str(cell).strip()
            try:
                return int(text) if text.isdigit() else text
            except ValueError:  # "²" is a digit to str.isdigit, not to int
                return text
        if field in BOOLEANS:
            text = str(cell).strip().lower()
            return True if text in TRUE else False if text in FALSE else text
        if isinstance(cell, float) and cell.is_integer():
            cell = int(cell)  # a phone typed as a number (an ID number is refused: problems)
        text = str(cell).strip()
        if field in LISTS:
            for separator in LIST_SEPARATORS[1:]:
                text = text.replace(separator, LIST_SEPARATORS[0])
            items = [item.strip() for item in text.split(LIST_SEPARATORS[0]) if item.strip()]
            table = self.labels.get(field)
            return [table.get(item, item) for item in items] if table else items
        table = self.labels.get(field)
        return table.get(text, text) if table else text


# What Excel, WPS or LibreOffice would read as the start of a formula (or a DDE call).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_data(cells, sheet=None):
    """A row's cells as a spreadsheet will take them: as data. Text starting the way a
    formula does (``FORMULA_STARTS``) becomes a string cell of the xlsx ``sheet`` (openpyxl
    would make it a formula) or, in CSV (no ``sheet``), gets a leading ``'``. Numbers stay
    numbers, negative ones too."""
    out = []
    for value in cells:
        if isinstance(value, str) and value.startswith(FORMULA_STARTS):
            if sheet is None:
                value = "'" + value
            else:
                from openpyxl.cell import WriteOnlyCell

                value = WriteOnlyCell(sheet, value)
                value.data_type = "s"
        out.append(value)
    return out


class CsvWriter:
    """``csv.writer`` whose every row goes through ``as_data``."""

    def __init__(self, handle):
        self._writer = csv.writer(handle)

    def writerow(self, cells):
        self._writer.writerow(as_data(cells))

    def writerows(self, rows):
        for cells in rows:
            self.writerow(cells)


def write(path, headers, records, fmt):
    """Write ``records`` (iterables of cells) under ``headers`` as xlsx or csv, streaming."""
    if fmt == "xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(as_data(headers, sheet))
        count = 0
        for record in records:
            sheet.append(as_data(record, sheet))
            count += 1
        book.save(path)
        return count
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = CsvWriter(handle)
        writer.writerow(headers)
        count = 0
        for record in records:
            writer.writerow(record)
            count += 1
        return count
