"""The report document (``vetctl.report.document``, what ``--json`` prints) and its HTML page
(``vetctl.html_report.render``) from fake stats: the page is self-contained, escapes every
text, and carries the document's figures, its monthly figures and the annual form."""

import datetime as dt
import hashlib
import json
import re
from html.parser import HTMLParser

from shared.jurisdiction import Jurisdiction
from vetctl import html_report, report

NOW = dt.datetime(2026, 12, 8, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
JURISDICTION = Jurisdiction("652300", "某<州>", {"652301": "昌吉市", "652302": "阜康&市"})


def stats(veterans, rate, loans, amount, by_month=None):
    return {
        "registry": {"veterans": veterans, "employment_rate": {"rate": rate}},
        "loans": {"disbursed": loans, "disbursed_amount": amount, "by_month": by_month},
        "training": {"enrolled": 4, "certificates": 2},
        "followup": {"average_satisfaction": 4.5, "retention": {"day_90": {"rate": 0.75}}},
        "jobs": None,  # a service that did not answer
        report.FORM: {"rate": rate},  # the annual form's rate (report.attach_form)
    }


AREAS = {
    "652301": stats(3, 0.5, 2, "80000.00", {"2026-11": {"loans_disbursed": 2}}),
    "652302": stats(1, 1.0, 0, "0.00"),
    None: stats(4, 0.625, 2, "80000.00", {"2026-10": {"loans_disbursed": 0}}),
}

FORM = {
    "year": 2025,
    "columns": [{"key": "A", "label": "A 总人数"}, {"key": "B", "label": "B <学历提升>"}],
    "rows": [{"area": "652301", "name": "昌吉市", "values": {"A": 7, "B": 3}}],
    "total": {"A": 7, "B": 3},
    "checks": [
        {"rule": "A = B + C + D + L", "ok": True, "left": 7, "right": 7, "area": None},
        {"rule": "D = E + G + H", "ok": False, "left": 4, "right": 3, "area": "652301"},
    ],
    "rate": {"value": "85.7%", "definition": "（B+C+D）÷ A <定义>"},
}


class Cells(HTMLParser):
    """Every [data-table] element's data attributes and text; every src/href attribute."""

    def __init__(self):
        super().__init__()
        self.cells, self.links, self._open = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [attrs[a] for a in ("src", "href") if a in attrs]
        if "data-table" in attrs:
            self._open = {k.removeprefix("data-"): v for k, v in attrs.items()} | {"text": ""}

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if self._open is not None and tag in ("td", "span"):
            self.cells.append(self._open)
            self._open = None


def parse(page):
    parser = Cells()
    parser.feed(page)
    return parser


def test_document_has_the_contract_shape_and_the_same_figures_as_the_table():
    doc = report.document(AREAS, JURISDICTION, NOW)
    assert set(doc) == {"generated_at", "areas", "area_names", "by_month", "form"}
    assert doc["generated_at"] == "2026-12-08T09:30:00+08:00"
    assert list(doc["areas"]) == ["652301", "652302", "prefecture"]
    assert doc["areas"]["652301"]["veterans"] == 3
    assert doc["areas"]["652301"]["employment_rate"] == "50.0%"
    assert doc["areas"]["652301"]["loans"] == "2 / 80000.00"
    assert doc["areas"]["652301"]["postings"] is None  # jobs did not answer
    assert doc["area_names"] == {"652301": "昌吉市", "652302": "阜康&市", "prefecture": "某<州>"}
    # Every charted figure of report.MONTHLY, None where no service reported it.
    empty = dict.fromkeys(key for key, *_ in report.MONTHLY)
    assert doc["by_month"] == {
        "652301": {"2026-11": {**empty, "loans_disbursed": 2}},
        "prefecture": {"2026-10": {**empty, "loans_disbursed": 0}},
    }
    assert doc["form"] is None
    _, rows = report.table(AREAS)
    assert {key: values[0] for key, _, values in rows} == doc["areas"]["652301"]
    json.dumps(doc)  # what --json prints


def test_number_reads_the_documents_figures_for_charts():
    assert html_report.number("62.5%") == 62.5
    assert html_report.number("2 / 80000.00", 0) == 2
    assert html_report.number("2 / 80000.50", 1) == 80000.5
    assert html_report.number(4.5) == 4.5 and html_report.number(3) == 3
    assert html_report.number("12") == 12 and html_report.number("0.75") == 0.75
    for nothing in (None, True, "—", "n/a", "1 / 2 / 3"):
        assert html_report.number(nothing, 0 if nothing == "1 / 2 / 3" else None) is None


def test_page_is_one_self_contained_file_with_echarts_inline_and_an_a4_print_sheet():
    page = html_report.render(report.document(AREAS, JURISDICTION, NOW))
    assert parse(page).links == []  # no src= or href= at all: nothing to fetch
    vendored = html_report.ECHARTS.read_bytes()
    assert vendored.decode() in page
    ours = page.replace(vendored.decode(), "")  # ECharts names SVG's namespaces, fetches none
    assert not re.search(r"@import|url\(|<link|https?://", ours)
    assert "default-src 'none'" in page
    assert "@page { size: A4" in page and "@media print" in page
    assert 'renderer: "svg"' in page
    pinned = dict(
        line.split("=", 1)
        for line in (html_report.ASSETS / "echarts.version").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert hashlib.sha256(vendored).hexdigest() == pinned["sha256"]
    assert "Noto Sans CJK SC" in page and "@font-face" not in page


def test_every_text_is_escaped():
    doc = report.document(AREAS, JURISDICTION, NOW)
    doc["areas"]["652301"]["veterans"] = "<script>alert(1)</script>"
    doc["form"] = FORM
    page = html_report.render(doc)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "某&lt;州&gt;" in page and "阜康&amp;市" in page
    assert "B &lt;学历提升&gt;" in page and "&lt;定义&gt;" in page
    charts = page.split('id="report-charts">', 1)[1].split("</script>", 1)[0]
    assert "<" not in charts  # the chart data cannot close its script element
    assert json.loads(charts)[0]["categories"] == ["昌吉市", "阜康&市"]


def test_page_shows_the_documents_figures_the_months_and_the_form():
    doc = report.document(AREAS, JURISDICTION, NOW)
    doc["form"] = FORM
    page = html_report.render(doc, "zh")
    cells = parse(page).cells
    indicators = {(c["area"], c["key"]): c["text"] for c in cells if c["table"] == "indicators"}
    for area, figures in doc["areas"].items():
        for key, value in figures.items():
            assert indicators[area, key] == ("—" if value is None else str(value)), (area, key)
    months = {
        (c["area"], c["key"], c["month"]): c["text"] for c in cells if c["table"] == "by_month"
    }
    assert months[("652301", "loans_disbursed", "2026-11")] == "2"
    assert months[("652301", "loans_disbursed", "2026-10")] == "—"
    assert months[("prefecture", "loans_disbursed", "2026-10")] == "0"
    form = {(c.get("area"), c["key"]): c["text"] for c in cells if c["table"] == "form"}
    assert form[("652301", "A")] == "7" and form[("total", "B")] == "3"
    assert form[(None, "rate")] == "85.7%"
    assert page.count("✓ 通过") == 1 and page.count("✗ 不符") == 1
    assert "2025年退役自主就业人员就业创业情况" in page
    charts = json.loads(page.split('id="report-charts">', 1)[1].split("</script>", 1)[0])
    ids = [c["id"] for c in charts]
    assert ids[:3] == [
        "chart-county-employment_rate",
        "chart-county-loans",
        "chart-county-loans_amount",
    ]
    assert "chart-month-loans_disbursed" in ids and "chart-county-satisfaction" in ids
    rate = next(c for c in charts if c["id"] == "chart-county-employment_rate")
    assert rate["series"][0]["data"] == [50.0, 100.0]  # counties only, as numbers
    for chart in charts:
        assert f'id="{chart["id"]}"' in page
    assert "2026-12-08 09:30 (UTC+08:00)" in page


def test_page_without_months_or_form_says_so_and_has_no_form_section():
    doc = report.document({"652301": stats(1, 0.0, 0, "0.00")}, JURISDICTION, NOW)
    assert doc["by_month"] == {}
    page = html_report.render(doc, "en")
    assert "No monthly figures yet." in page and 'id="form"' not in page
    assert "registered veterans" in page and "昌吉市" in page


def test_html_csv_and_xlsx_need_an_output_file_before_anything_is_asked():
    from click.testing import CliRunner

    from vetctl.main import cli

    for fmt in ("html", "csv", "xlsx"):
        result = CliRunner().invoke(cli, ["report", "--format", fmt])
        assert result.exit_code == 2 and f"--format {fmt} needs --output FILE" in result.output


def test_the_headline_rate_is_the_annual_forms_per_area():
    areas = {"652301": {}, "652302": {}, None: {}}
    form = {
        "scope": {"level": "prefecture", "code": None},
        "rows": [{"area": "652301", "values": {"A": 4, "D": 3}}],
        "total": {"A": 4, "D": 3},
        "rate": {"value": "0.7500", "rows": {"652301": "0.7500"}},
    }

    figures = report.as_json(report.attach_form(areas, form))

    assert figures["652301"]["cohort_employment_rate"] == "75.0%"
    assert figures["prefecture"]["cohort_employment_rate"] == "75.0%"
    assert figures["652302"]["cohort_employment_rate"] is None  # no row: shown as —
    assert report.attach_form({"652301": {}}, None) == {"652301": {}}
