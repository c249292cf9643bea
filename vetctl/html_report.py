"""``vetctl report --format html``: the report document (``vetctl.report.document``, the same
one ``--json`` prints) as ONE self-contained HTML page leaders open offline and print on A4.

Everything is inline: the template (vetctl/assets/report.html, ``string.Template``), the
stylesheet (a CJK system-font stack, no web fonts) and the vendored ECharts build
(vetctl/assets/echarts.common.min.js, pinned in echarts.version; charts drawn with its SVG
renderer). Every text from the document is HTML-escaped; the chart data travels as JSON in a
``<script type="application/json">`` with ``<`` escaped. Each figure of a table carries
``data-area`` and ``data-key`` so a test can read the page's numbers back."""

import datetime as dt
import html
import json
import re
from pathlib import Path
from string import Template

from vetctl.report import INDICATORS, PREFECTURE

ASSETS = Path(__file__).parent / "assets"
ECHARTS = ASSETS / "echarts.common.min.js"
FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "Heiti SC", "SimHei", sans-serif'
)
MISSING = "—"
# Areas per indicator table: more (stations) continue in a further table, so a table fits A4.
AREAS_PER_TABLE = 8

LABELS = {key: (zh, en) for key, zh, en, _ in INDICATORS}
# Indicators the services report by month (stats["by_month"]) that are not table rows.
MONTHLY_LABELS = {
    "loans_disbursed": ("发放贷款（笔）", "loans disbursed"),
    "loans_amount": ("发放贷款金额（元）", "loans disbursed (yuan)"),
    "placed_after_training": ("培训后就业", "placed after training"),
}

TEXT = {
    "zh": {
        "title": "退役军人就业创业工作报告",
        "generated": "生成时间：",
        "indicators": "一、主要指标",
        "indicator": "指标",
        "by_county": "二、分县市指标图",
        "by_month": "三、按月变化",
        "no_months": "暂无按月数据。",
        "no_data": "暂无数据",
        "form": "四、年度统计表",
        "form_title": "{year}年退役自主就业人员就业创业情况",
        "area": "地区",
        "total": "合计",
        "checks": "表内校验",
        "checks_summary": "共 {n} 项校验，{failed} 项不符（下表列出合计行的校验和全部不符项）",
        "unclassified": (
            "{n} 张卡片无法归入任何一栏，只计入总数：请核对后再报送"
            "（vetctl report form --json 列出卡片编号）"
        ),
        "rule": "校验规则",
        "left": "左边",
        "right": "右边",
        "result": "结果",
        "ok": "✓ 通过",
        "fail": "✗ 不符",
        "rate": "就业创业率",
        "definition": "口径：",
        "month": "月份",
        "prefecture": "全州",
    },
    "en": {
        "title": "Veterans' employment and entrepreneurship report",
        "generated": "Generated: ",
        "indicators": "1. Indicators",
        "indicator": "indicator",
        "by_county": "2. By county",
        "by_month": "3. By month",
        "no_months": "No monthly figures yet.",
        "no_data": "no figures yet",
        "form": "4. The annual form",
        "form_title": "Self-arranged veterans discharged in {year}",
        "area": "area",
        "total": "total",
        "checks": "Checks",
        "checks_summary": "{n} checks, {failed} failing (listed: the total's, every failing one)",
        "unclassified": (
            "{n} card(s) fit no column and count in the total only: correct them before "
            "filing (vetctl report form --json lists them)"
        ),
        "rule": "rule",
        "left": "left",
        "right": "right",
        "result": "result",
        "ok": "✓ holds",
        "fail": "✗ fails",
        "rate": "employment and entrepreneurship rate",
        "definition": "Definition: ",
        "month": "month",
        "prefecture": "prefecture",
    },
}

# Charts by county: (id, Chinese title, English title, unit, [(series key, part)], y max).
# ``part`` picks the count (0) or the amount (1) of a "count / amount" figure.
COUNTY_CHARTS = (
    (
        "employment_rate",
        "就业创业率（上年度新增自主就业退役士兵）",
        "employment rate (last year's self-arranged cohort)",
        "%",
        [("cohort_employment_rate", None)],
        100,
    ),
    ("loans", "协调贷款（笔）", "loans coordinated", "笔", [("loans", 0)], None),
    ("loans_amount", "协调贷款金额（元）", "loans coordinated (yuan)", "元", [("loans", 1)], None),
    (
        "training",
        "培训与就业",
        "training and placement",
        "人",
        [("trained", None), ("certified", None), ("placed_after_training", None)],
        None,
    ),
    (
        "retention",
        "稳岗率",
        "retention",
        "%",
        [("retention_90", None), ("retention_180", None)],
        100,
    ),
    ("satisfaction", "回访满意度（1–5）", "revisit satisfaction", "", [("satisfaction", None)], 5),
)

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def number(value, part=None):
    """A figure of the document as a number for a chart: ints and floats as they are, "12.5%"
    → 12.5, "3 / 150000.00" → 3 (part 0) or 150000.0 (part 1), anything else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    text = str(value).strip()
    if part is not None:
        pieces = text.split("/")
        if len(pieces) != 2:
            return None
        text = pieces[part].strip()
    text = text.removesuffix("%").strip()
    if not _NUMBER.fullmatch(text):
        return None
    parsed = float(text)
    return int(parsed) if parsed.is_integer() and "." not in text else parsed


def shown(value):
    """How a figure is written in the page: what ``--json`` gives, "—" for none."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _e(value):
    return html.escape(str(value), quote=True)


def label(key, lang):
    zh, en = LABELS.get(key) or MONTHLY_LABELS.get(key) or (key, key)
    return zh if lang == "zh" else en


def area_label(doc, area, lang):
    """An area's column or axis name: the county's name; the prefecture as the table names
    it ("全州")."""
    if area == PREFECTURE:
        return TEXT[lang]["prefecture"]
    return doc.get("area_names", {}).get(area) or area


def _cell(value, **data):
    attributes = "".join(f' data-{name}="{_e(v)}"' for name, v in data.items())
    return f'<td class="num"{attributes}>{_e(shown(value))}</td>'


def _indicator_tables(doc, lang):
    t = TEXT[lang]
    areas = list(doc["areas"])
    keys = [key for key, *_ in INDICATORS]
    for figures in doc["areas"].values():  # indicators another part added, in their order
        keys += [key for key in figures if key not in keys]
    out = []
    for start in range(0, max(len(areas), 1), AREAS_PER_TABLE):
        chunk = areas[start : start + AREAS_PER_TABLE]
        head = "".join(f'<th scope="col">{_e(area_label(doc, a, lang))}</th>' for a in chunk)
        rows = []
        for key in keys:
            cells = "".join(
                _cell(doc["areas"][a].get(key), area=a, key=key, table="indicators") for a in chunk
            )
            name = _e(label(key, lang))
            rows.append(f'<tr><th scope="row" class="label">{name}</th>{cells}</tr>')
        out.append(
            f'<table class="indicators"><thead><tr><th scope="col">{_e(t["indicator"])}</th>'
            f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    return "".join(out)


def _figure(chart_id, title, empty=None):
    if empty is not None:
        return (
            f'<figure data-empty="{_e(chart_id)}"><figcaption>{_e(title)}</figcaption>'
            f'<p class="empty">{_e(empty)}</p></figure>'
        )
    return (
        f"<figure><figcaption>{_e(title)}</figcaption>"
        f'<div class="chart" id="{_e(chart_id)}" role="img" aria-label="{_e(title)}"></div>'
        "</figure>"
    )


def county_charts(doc, lang):
    """Chart specs by county (the prefecture left out where there are counties)."""
    areas = [a for a in doc["areas"] if a != PREFECTURE] or list(doc["areas"])
    categories = [area_label(doc, a, lang) for a in areas]
    specs = []
    for chart_id, zh, en, unit, series_keys, top in COUNTY_CHARTS:
        series = []
        for key, part in series_keys:
            data = [number(doc["areas"][a].get(key), part) for a in areas]
            if any(v is not None for v in data):
                series.append({"name": label(key, lang), "data": data})
        specs.append(
            {
                "id": f"chart-county-{chart_id}",
                "title": zh if lang == "zh" else en,
                "kind": "bar",
                "unit": unit,
                "max": top,
                "categories": categories,
                "series": series,  # empty: no area has the figure ("暂无数据" in its place)
            }
        )
    return specs


def monthly(doc):
    """``(months, {indicator key: {area: {month: value}}})`` from ``by_month``."""
    months: set[str] = set()
    figures: dict[str, dict[str, dict[str, object]]] = {}
    for area, by_month in (doc.get("by_month") or {}).items():
        for month, values in by_month.items():
            months.add(month)
            for key, value in values.items():
                figures.setdefault(key, {}).setdefault(area, {})[month] = value
    return sorted(months), figures


def month_charts(doc, lang):
    months, figures = monthly(doc)
    specs = []
    for key, per_area in figures.items():
        series = [
            {
                "name": area_label(doc, area, lang),
                "data": [number(values.get(month)) for month in months],
            }
            for area, values in per_area.items()
        ]
        specs.append(
            {
                "id": f"chart-month-{key}",
                "title": label(key, lang),
                "kind": "line",
                "unit": "",
                "max": None,
                "categories": months,
                "series": series,
            }
        )
    return specs


def _month_tables(doc, lang, specs):
    t = TEXT[lang]
    months, figures = monthly(doc)
    if not figures:
        return f'<p class="empty">{_e(t["no_months"])}</p>'
    out = []
    for spec in specs:
        key = spec["id"].removeprefix("chart-month-")
        out.append(_figure(spec["id"], spec["title"]))
        head = "".join(f'<th scope="col">{_e(m)}</th>' for m in months)
        rows = "".join(
            f'<tr><th scope="row" class="label">{_e(area_label(doc, area, lang))}</th>'
            + "".join(
                _cell(values.get(m), area=area, key=key, month=m, table="by_month") for m in months
            )
            + "</tr>"
            for area, values in figures[key].items()
        )
        out.append(
            f'<table class="by-month"><thead><tr><th scope="col">{_e(t["area"])}</th>{head}'
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    return "".join(out)


def _forms_own(check):
    """One of the form's own checks (A = B + C + D + L …), not a row sum or a bound."""
    rule = check.get("rule", "")
    return "=" in rule and "各行" not in rule


def _percent(value):
    """A rate as the form gives it (a fraction, "0.6814") shown as "68.1%"; text that is
    already a percentage, or None, as ``shown`` has it."""
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return shown(value)


def _form_section(form, lang):
    t = TEXT[lang]
    columns = form.get("columns") or []
    # A column's letter above its label (the checks name the columns by letter).
    head = "".join(
        f'<th scope="col">{_e(c["key"]) + "<br>" if len(c["key"]) == 1 else ""}'
        f"{_e(c.get('label', c['key']))}</th>"
        for c in columns
    )
    rows = []
    for row in form.get("rows") or []:
        values = row.get("values") or {}
        cells = "".join(
            _cell(values.get(c["key"]), area=row.get("area"), key=c["key"], table="form")
            for c in columns
        )
        name = row.get("name") or row.get("area")
        rows.append(f'<tr><th scope="row" class="label">{_e(name)}</th>{cells}</tr>')
    if form.get("total") is not None:
        cells = "".join(
            _cell(form["total"].get(c["key"]), area="total", key=c["key"], table="form")
            for c in columns
        )
        rows.append(f'<tr class="total"><th scope="row">{_e(t["total"])}</th>{cells}</tr>')
    parts = [
        f"<h3>{_e(t['form_title'].format(year=form.get('year', '')))}</h3>",
        f'<table class="form"><thead><tr><th scope="col">{_e(t["area"])}</th>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>",
    ]
    names = {row.get("area"): row.get("name") or row.get("area") for row in form.get("rows") or []}
    checks = form.get("checks") or []
    # The form's checks on its total, and every check that fails anywhere (a row, or the
    # rows not adding up); the others are counted, not listed (a prefecture has ~60).
    listed = [
        c
        for c in checks
        if not c.get("ok")
        or (c.get("area") is None and "=" in c.get("rule", "") and "各行" not in c.get("rule", ""))
    ]
    if checks:
        failed = sum(not c.get("ok") for c in checks)
        lines = "".join(
            f"<tr><td>{_e(c.get('rule', ''))}</td>"
            f"<td>{_e(names.get(c.get('area'), c.get('area')) or t['total'])}</td>"
            f'<td class="num">{_e(shown(c.get("left")))}</td>'
            f'<td class="num">{_e(shown(c.get("right")))}</td>'
            f'<td class="{"ok" if c.get("ok") else "fail"}" data-ok="{bool(c.get("ok"))}">'
            f"{_e(t['ok'] if c.get('ok') else t['fail'])}</td></tr>"
            for c in listed
        )
        parts.append(
            f"<h3>{_e(t['checks'])}</h3>"
            f"<p>{_e(t['checks_summary'].format(n=len(checks), failed=failed))}</p>"
            f'<table class="checks"><thead><tr>'
            f"<th>{_e(t['rule'])}</th><th>{_e(t['area'])}</th><th>{_e(t['left'])}</th>"
            f"<th>{_e(t['right'])}</th><th>{_e(t['result'])}</th></tr></thead>"
            f"<tbody>{lines}</tbody></table>"
        )
    if form.get("unclassified"):
        parts.append(
            f'<p class="fail">{_e(t["unclassified"].format(n=len(form["unclassified"])))}</p>'
        )
    rate = form.get("rate")
    if rate:
        parts.append(
            f'<p><strong>{_e(t["rate"])}：</strong><span data-table="form" data-key="rate">'
            f"{_e(_percent(rate.get('value')))}</span></p>"
            f'<p class="definition">{_e(t["definition"])}{_e(rate.get("definition", ""))}</p>'
        )
    if form.get("precedence"):
        parts.append(f'<p class="definition">{_e(form["precedence"])}</p>')
    return "".join(parts)


def _generated(doc):
    text = doc.get("generated_at") or ""
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    offset = at.strftime("%z")
    shown_at = f"{at:%Y-%m-%d %H:%M}"
    return f"{shown_at} (UTC{offset[:3]}:{offset[3:]})" if offset else shown_at


def _script_json(value):
    """JSON safe inside a <script> element: no "<" (so no "</script>"), no U+2028/9."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def echarts_version():
    for line in (ASSETS / "echarts.version").read_text(encoding="utf-8").splitlines():
        if line.startswith("version="):
            return line.removeprefix("version=").strip()
    return "unknown"


def render(doc, lang="zh"):
    """The whole page, a str, from a report document."""
    t = TEXT[lang]
    by_county = county_charts(doc, lang)
    by_month = month_charts(doc, lang)
    sections = [
        f'<section id="indicators"><h2>{_e(t["indicators"])}</h2>'
        f"{_indicator_tables(doc, lang)}</section>",
        f'<section id="by-county"><h2>{_e(t["by_county"])}</h2>'
        + "".join(
            _figure(spec["id"], spec["title"], None if spec["series"] else t["no_data"])
            for spec in by_county
        )
        + "</section>",
        f'<section id="by-month"><h2>{_e(t["by_month"])}</h2>'
        f"{_month_tables(doc, lang, by_month)}</section>",
    ]
    if doc.get("form"):
        sections.append(
            f'<section id="form"><h2>{_e(t["form"])}</h2>'
            f"{_form_section(doc['form'], lang)}</section>"
        )
    prefecture = doc.get("area_names", {}).get(PREFECTURE)
    title = f"{prefecture}{t['title']}" if prefecture and lang == "zh" else t["title"]
    template = Template((ASSETS / "report.html").read_text(encoding="utf-8"))
    return template.substitute(
        lang="zh-CN" if lang == "zh" else "en",
        title=_e(title),
        fonts=FONTS,
        generated_label=_e(t["generated"]),
        generated_at=_e(doc.get("generated_at") or ""),
        generated=_e(_generated(doc)),
        sections="\n".join(sections),
        echarts=ECHARTS.read_text(encoding="utf-8"),
        echarts_version=_e(echarts_version()),
        charts=_script_json([spec for spec in by_county + by_month if spec["series"]]),
    )
