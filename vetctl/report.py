"""The bureau's page of indicators per county and for the prefecture, combined from each
service's ``stats``. A service that does not answer leaves its indicators empty (shown as
"—") rather than failing the whole report.

``document`` builds the one report document that ``--json`` prints and ``--format html``
renders (vetctl/html_report.py), so the page and the JSON carry the same numbers."""

from decimal import Decimal

from vetctl import SERVICES


def _get(stats, *path):
    value = stats
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _sum_kinds(stats, kind):
    stages = _get(stats, "registry", "enterprises", kind)
    return sum(stages.values()) if isinstance(stages, dict) else None


def _subsidies(stats):
    kinds = _get(stats, "loans", "subsidies")
    if not isinstance(kinds, dict):
        return None
    return (
        f"{sum(int(v['count']) for v in kinds.values())} / "
        f"{sum(Decimal(v['amount']) for v in kinds.values()):.2f}"
    )


def _pair(count, amount):
    return None if count is None else f"{count} / {amount}"


def _referrals(stats):
    """Loans by referral to a partner bank: referred / approved by the bank / disbursed /
    yuan disbursed (loans' ``stats.by_workflow.referral``)."""
    figures = _get(stats, "loans", "by_workflow", "referral")
    if not isinstance(figures, dict):
        return None
    return (
        f"{figures['referred']} / {figures['approved']} / {figures['disbursed']} / "
        f"{figures['disbursed_amount']}"
    )


def _rate(value):
    return None if value is None else f"{float(value) * 100:.1f}%"


def _retention(stats, days):
    value = _get(stats, "followup", "retention", f"day_{days}", "rate")
    return _rate(value)


# Where ``attach_form`` puts an area's figures of the annual form beside its services' stats.
FORM = "annual_form"


def attach_form(areas, form):
    """Put each area's annual-form rate beside its stats (``areas[area][FORM]``): the
    form's total for the area it was asked for (the prefecture, or the one county), its
    rows for the areas below (counties, or townships). Areas the form has no row for get
    nothing (shown as "—")."""
    if not form:
        return areas
    by_area = {row["area"]: row for row in form["rows"]}
    scope = form["scope"].get("code")
    for area, stats in areas.items():
        if area == scope:
            stats[FORM] = {"rate": form["rate"]["value"], **form["total"]}
        elif area in by_area:
            stats[FORM] = {"rate": form["rate"]["rows"][area], **by_area[area]["values"]}
    return areas


# (key, Chinese label, English label, value from {service: stats})
INDICATORS = (
    ("veterans", "登记退役军人", "registered veterans", lambda s: _get(s, "registry", "veterans")),
    (
        # The headline: the annual form's rate (D ÷ A) for last year's cohort of 自主就业
        # discharges, the figure the bureau files upward (``attach_form``).
        "cohort_employment_rate",
        "就业创业率（上年度新增自主就业退役士兵，D÷A）",
        "employment and entrepreneurship rate (last year's self-arranged cohort, D/A)",
        lambda s: _rate(_get(s, FORM, "rate")),
    ),
    (
        "employment_rate",
        "在册就业率（全体登记中有就业创业意愿或在业者）",
        "employment rate of the whole ledger (of those willing or working)",
        lambda s: _rate(_get(s, "registry", "employment_rate", "rate")),
    ),
    (
        "enterprises",
        "退役军人创办企业",
        "veteran-founded enterprises",
        lambda s: _sum_kinds(s, "enterprise"),
    ),
    (
        "individual_businesses",
        "个体工商户",
        "individual businesses",
        lambda s: _sum_kinds(s, "individual_business"),
    ),
    (
        "cooperatives",
        "农民专业合作社",
        "farmers' cooperatives",
        lambda s: _sum_kinds(s, "cooperative"),
    ),
    (
        "loans",
        "协调贷款（笔/元）",
        "loans coordinated (count / yuan)",
        lambda s: _pair(_get(s, "loans", "disbursed"), _get(s, "loans", "disbursed_amount")),
    ),
    (
        # The two workflows (services/loans/README.md, "The referral workflow"): the
        # bureau's own loans, and those it verified and referred to a partner bank.
        "loans_in_house",
        "贷款（本局审批）（放款笔/元）",
        "loans the bureau approved (disbursed count / yuan)",
        lambda s: _pair(
            _get(s, "loans", "by_workflow", "in_house", "disbursed"),
            _get(s, "loans", "by_workflow", "in_house", "disbursed_amount"),
        ),
    ),
    (
        "loans_referral",
        "贷款（银行转介）（转介/银行审批/放款笔/元）",
        "loans referred to a partner bank (referred / approved / disbursed / yuan)",
        _referrals,
    ),
    ("subsidies", "发放补贴（笔/元）", "subsidies granted (count / yuan)", _subsidies),
    (
        "tax_relief",
        "税收减免（元）",
        "tax relief (yuan)",
        lambda s: _get(s, "loans", "tax_relief_total"),
    ),
    ("trained", "参训退役军人", "veterans trained", lambda s: _get(s, "training", "enrolled")),
    ("certified", "取得证书", "certificates issued", lambda s: _get(s, "training", "certificates")),
    (
        "training_bases",
        "培训基地",
        "training bases",
        lambda s: _get(s, "training", "training_bases"),
    ),
    (
        "incubation_bases",
        "孵化基地",
        "incubation bases",
        lambda s: _get(s, "training", "incubation_bases"),
    ),
    ("mentors", "创业导师", "mentors", lambda s: _get(s, "training", "mentors")),
    (
        "postings",
        "发布用工信息（次）",
        "job postings published (times)",
        lambda s: _get(s, "jobs", "postings_published"),
    ),
    (
        "openings",
        "发布用工信息（个岗位）",
        "job openings published (posts)",
        lambda s: _get(s, "jobs", "openings"),
    ),
    (
        "fairs",
        "举办招聘会（线上直播+线下面试，场）",
        "fairs held (online live + offline interviews)",
        lambda s: _get(s, "jobs", "fairs_held"),
    ),
    (
        "fairs_online_live",
        "其中线上直播（场）",
        "of which online live",
        lambda s: _get(s, "jobs", "fairs_by_mode", "online_live"),
    ),
    (
        "fairs_offline",
        "其中线下面试（场）",
        "of which offline interviews",
        lambda s: _get(s, "jobs", "fairs_by_mode", "offline"),
    ),
    (
        "fairs_hybrid",
        "其中线上线下同场（场）",
        "of which online and offline at once",
        lambda s: _get(s, "jobs", "fairs_by_mode", "hybrid"),
    ),
    (
        "consultations",
        "咨询服务人次",
        "consultations served (contacts)",
        lambda s: _get(s, "followup", "contacts", "total"),
    ),
    (
        "intentions",
        "达成就业意向",
        "employment intentions reached",
        lambda s: _get(s, "jobs", "intentions_reached"),
    ),
    (
        "dedicated_referrals",
        "专岗推荐就业",
        "dedicated referrals placed",
        lambda s: _get(s, "jobs", "dedicated_referrals_placed"),
    ),
    (
        "auxiliary_police_placements",
        "辅警岗位就业（人）",
        "hired as auxiliary police",
        lambda s: _get(s, "jobs", "auxiliary_police_placements"),
    ),
    (
        "village_cadre_placements",
        "村（社区）“两委”岗位就业（人）",
        "hired into village (community) committees",
        lambda s: _get(s, "jobs", "village_cadre_placements"),
    ),
    (
        "revisits_done",
        "完成回访",
        "revisits done",
        lambda s: _get(s, "followup", "revisits", "done"),
    ),
    (
        "satisfaction",
        "满意度（1–5）",
        "satisfaction (1–5)",
        lambda s: _get(s, "followup", "average_satisfaction"),
    ),
    ("retention_90", "90天稳岗率", "90-day retention", lambda s: _retention(s, 90)),
    ("retention_180", "180天稳岗率", "180-day retention", lambda s: _retention(s, 180)),
)


def collect(client, counties):
    """``{area: {service: stats}}`` for each county and the prefecture (``None``)."""
    areas = {}
    for county in [*counties, None]:
        areas[county] = {service: client.try_call(service, "stats", county) for service in SERVICES}
    return areas


def collect_stations(client, county_code):
    """``{station_code: {service: stats}}`` for every township and village station of a
    county (a township's figures roll up its villages). Only registry knows a veteran's
    station: the other services' entries are None."""
    from shared.jurisdiction import Jurisdiction

    return {
        station.code: {
            service: client.try_call("registry", "stats", county_code, station.code)
            if service == "registry"
            else None
            for service in SERVICES
        }
        for station in Jurisdiction.load().stations_of(county_code)
    }


def table(areas, lang="zh"):
    """Rows of (label, value per area) and the area names."""
    names = [("全州" if lang == "zh" else "prefecture") if area is None else area for area in areas]
    rows = []
    for key, zh, en, value in INDICATORS:
        rows.append((key, zh if lang == "zh" else en, [value(stats) for stats in areas.values()]))
    return names, rows


PREFECTURE = "prefecture"


def area_key(area):
    """The document's key of an area: its code, or "prefecture"."""
    return PREFECTURE if area is None else area


def as_json(areas):
    return {
        area_key(area): {key: value(stats) for key, _, _, value in INDICATORS}
        for area, stats in areas.items()
    }


# (key, Chinese label, English label, (service, figure)): the monthly series a chart draws,
# each read from that service's ``stats`` → ``by_month``.
MONTHLY = (
    (
        "employment_rate",
        "在册就业率（月末）",
        "employment rate of the ledger (month end)",
        ("registry", "employment_rate"),
    ),
    ("loans_disbursed", "放款（笔）", "loans disbursed", ("loans", "loans_disbursed")),
    ("loans_amount", "放款金额（元）", "loans disbursed (yuan)", ("loans", "loans_amount")),
    (
        "placed_after_training",
        "培训后就业（人）",
        "placed after training",
        ("training", "placed_after_training"),
    ),
    ("retention_90", "90天稳岗率", "90-day retention", ("followup", "retention_90")),
    (
        "satisfaction",
        "回访满意度（1–5）",
        "revisit satisfaction (1–5)",
        ("followup", "satisfaction"),
    ),
)


def monthly(areas):
    """``{area: {"YYYY-MM": {indicator: value}}}`` from ``{area: {service: stats}}`` (area
    None is the prefecture, keyed "prefecture" as in ``as_json``): the months every
    answering service gave, oldest first, each with every indicator of ``MONTHLY``;
    a figure whose service did not answer (or gave no such month) is None. Rates are
    fractions (0.8123), amounts strings of yuan as the services give them."""
    out = {}
    for area, stats in areas.items():
        months = sorted(
            {month for service in SERVICES for month in (_get(stats, service, "by_month") or {})}
        )
        out[area_key(area)] = {
            month: {
                key: _get(stats, service, "by_month", month, figure)
                for key, _, _, (service, figure) in MONTHLY
            }
            for month in months
        }
    return out


def by_month(areas):
    """``{area key: {"YYYY-MM": {indicator key: value}}}``: ``monthly`` (the charted
    figures of ``MONTHLY`` only), areas without months left out."""
    return {area: months for area, months in monthly(areas).items() if months}


def area_names(areas, jurisdiction):
    """The Chinese name of each area (county or station) of the document (its code where
    the data file has none)."""

    def name(area):
        if area is None:
            return jurisdiction.prefecture_name
        station = jurisdiction.station(area)
        return station.name if station else (jurisdiction.name_of(area) or area)

    return {area_key(area): name(area) for area in areas}


def document(areas, jurisdiction, now, form=None):
    """The report document (a contract other parts fill): ``generated_at`` (ISO, the bureau's
    zone), ``areas`` (indicators per area), ``area_names``, ``by_month`` and ``form`` (the
    annual form's document, or None)."""
    return {
        "generated_at": now.isoformat(timespec="seconds"),
        "areas": as_json(areas),
        "area_names": area_names(areas, jurisdiction),
        "by_month": by_month(areas),
        "form": form,
    }
