"""Spreadsheets in and out: ``.xlsx`` (openpyxl, read-only and write-only so a large file
streams) and ``.csv`` in UTF-8 or GB18030, with Chinese or English column headers. Cells
become the RPCs' payloads: Chinese labels of codes become codes, lists split on 、，,; and
dates and numbers from Excel become ISO strings and integers."""
import codecs
import csv
import datetime as dt
from pathlib import Path

from shared.taxonomy import Taxonomy

LIST_SEPARATORS = ("、", "，", ",", ";", "；", "|")

VETERAN_HEADERS = {
    "id_number": ("身份证号", "身份证号码", "公民身份号码"),
    "name": ("姓名",),
    "phone": ("手机", "手机号", "手机号码", "联系电话"),
    "county_code": ("县市区代码", "区县代码", "县区代码", "所属县市区"),
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
CODED = {"ethnicity": "ethnicity", "education": "education", "branch": "branch",
         "rank_category": "rank_category", "discharge_type": "discharge_type",
         "skills": "skills", "intentions.occupations": "occupations",
         "willingness": "willingness", "employment_status": "employment_status",
         "service_needs": "service_needs", "kind": "enterprise_kind",
         "industry": "industries", "stage": "enterprise_stage"}
LISTS = {"skills", "certificates", "intentions.occupations", "intentions.counties",
         "service_needs", "founder_id_numbers"}
DATES = {"enlisted_on", "discharged_on", "employed_since", "founded_on"}
INTEGERS = {"intentions.min_salary", "employees", "veteran_employees"}
BOOLEANS = {"federation_member"}
TRUE, FALSE = {"是", "true", "yes", "y", "1"}, {"否", "false", "no", "n", "0"}


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


def _open_text(path):
    """UTF-8 (with or without BOM) if the file is valid UTF-8, else GB18030."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as raw:
        try:
            while True:
                block = raw.read(1 << 20)
                if not block:
                    break
                decoder.decode(block)
            decoder.decode(b"", final=True)
            encoding = "utf-8-sig"
        except UnicodeDecodeError:
            encoding = "gb18030"
    return open(path, encoding=encoding, newline=""), encoding


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
        handle, encoding = _open_text(path)
        with open(path, "rb") as raw:
            total = max(0, sum(block.count(b"\n") for block in iter(lambda: raw.read(1 << 20), b"")) - 1)
        reader = csv.reader(handle)
        headers = next(reader, None)
        if headers is None:
            raise SheetError(f"{path}: the file is empty")

        def numbered():
            with handle:
                for number, cells in enumerate(reader, start=2):
                    if any(cell.strip() for cell in cells):
                        yield number, cells
        return headers, numbered(), total
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
            self.labels[field] = table

    def payload(self, cells):
        data = {}
        for field, cell in zip(self.fields, cells):
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
            data["intentions"] = {"occupations": [], "counties": [], "min_salary": None,
                                  **data["intentions"]}
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
            if isinstance(cell, float) and cell.is_integer():
                return int(cell)
            text = str(cell).strip()
            return int(text) if text.isdigit() else text
        if field in BOOLEANS:
            text = str(cell).strip().lower()
            return True if text in TRUE else False if text in FALSE else text
        if isinstance(cell, float) and cell.is_integer():
            cell = int(cell)  # an ID number or a phone typed as a number
        text = str(cell).strip()
        if field in LISTS:
            for separator in LIST_SEPARATORS[1:]:
                text = text.replace(separator, LIST_SEPARATORS[0])
            items = [item.strip() for item in text.split(LIST_SEPARATORS[0]) if item.strip()]
            table = self.labels.get(field)
            return [table.get(item, item) for item in items] if table else items
        table = self.labels.get(field)
        return table.get(text, text) if table else text


def write(path, headers, records, fmt):
    """Write ``records`` (iterables of cells) under ``headers`` as xlsx or csv, streaming."""
    if fmt == "xlsx":
        import openpyxl
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(headers)
        count = 0
        for record in records:
            sheet.append(list(record))
            count += 1
        book.save(path)
        return count
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        count = 0
        for record in records:
            writer.writerow(list(record))
            count += 1
        return count
