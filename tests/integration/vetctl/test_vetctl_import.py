"""vetctl import / export: xlsx and GB18030 csv with Chinese headers, bad rows reported,
a second run creating nothing, the file's problems named in one line."""
import csv
import json

import openpyxl
import pytest

from tests.factories import make_veteran, unique_id_numbers
from tests.helpers import scalar

HEADERS = ["身份证号", "姓名", "手机", "县市区代码", "退役时间", "退役类型", "技能", "意愿",
           "就业状态", "服务需求", "意向职业", "最低薪资"]


def rows(n, bad_every=0):
    """Rows as a county office's spreadsheet has them: Chinese labels, 、-separated lists,
    Excel dates. Every ``bad_every``-th row has a bad phone."""
    for i, number in enumerate(unique_id_numbers(n)):
        v = make_veteran(id_number=number)
        phone = "12345" if bad_every and i % bad_every == bad_every - 1 else f"139{i:08d}"
        yield [v["id_number"], v["name"], phone, v["county_code"], v["discharged_on"],
               "自主就业", "B2驾驶、保安", "job", "未就业", "岗位推荐，技能培训", "驾驶员",
               4000]


def write_xlsx(path, n, bad_every=0):
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADERS)
    for row in rows(n, bad_every):
        sheet.append(row)
    book.save(path)


def test_a_10000_row_xlsx_imports_with_its_bad_rows_reported_and_twice_is_harmless(
        system, vetctl, tmp_path, db):
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
    assert scalar(db, "SELECT skills FROM registry.veterans LIMIT 1") == ["driver_b2",
                                                                          "security_guard"]
    assert scalar(db, "SELECT service_needs FROM registry.veterans LIMIT 1") == [
        "job_referral", "skills_training"]

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
    assert scalar(db, "SELECT name FROM registry.veterans LIMIT 1")[0] in "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗欧"


@pytest.mark.parametrize("content,message", [
    (None, "no such file"),
    (b"not a workbook", "not a readable .xlsx file"),
])
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


def test_export_writes_masked_id_numbers(system, vetctl, tmp_path, rpc):
    # Distinct ID numbers: make_veteran's random ones come from a small space.
    numbers = list(unique_id_numbers(4))
    veterans = [rpc.registry.register_veteran(make_veteran(id_number=n, county_code="652301"))
                for n in numbers[:3]]
    rpc.registry.register_veteran(make_veteran(id_number=numbers[3], county_code="652302"))
    out = tmp_path / "昌吉市.csv"
    assert "3 veterans written" in vetctl("export", "veterans", "--county", "652301",
                                          "--format", "csv", "-o", out)
    with open(out, encoding="utf-8-sig") as handle:
        exported = list(csv.DictReader(handle))
    assert sorted(r["id"] for r in exported) == sorted(v["id"] for v in veterans)
    assert all("********" in r["id_number"] for r in exported)
    xlsx = tmp_path / "all.xlsx"
    vetctl("export", "veterans", "--format", "xlsx", "-o", xlsx)
    sheet = openpyxl.load_workbook(xlsx, read_only=True).worksheets[0]
    assert len(list(sheet.iter_rows(values_only=True))) == 5  # the header and 4 veterans


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
        encoding="utf-8")
    result = json.loads(vetctl("--json", "import", "enterprises", path))
    assert (result["created"], result["duplicate"], result["rejected"]) == (2, 0, 2)
    with open(result["report"], encoding="utf-8-sig") as handle:
        reported = {(r["row"], r["field"]) for r in csv.DictReader(handle)}
    assert ("4", "uscc") in reported and ("5", "founder_id_numbers.0") in reported
    again = json.loads(vetctl("--json", "import", "enterprises", path))
    assert (again["created"], again["duplicate"], again["rejected"]) == (0, 2, 2)
    assert scalar(db, "SELECT count(*) FROM registry.enterprises") == 2
