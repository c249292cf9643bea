"""The bureau's page of indicators per county and for the prefecture, combined from each
service's ``stats``. A service that does not answer leaves its indicators empty (shown as
"—") rather than failing the whole report."""

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


def _rate(value):
    return None if value is None else f"{float(value) * 100:.1f}%"


def _retention(stats, days):
    value = _get(stats, "followup", "retention", f"day_{days}", "rate")
    return _rate(value)


# (key, Chinese label, English label, value from {service: stats})
INDICATORS = (
    ("veterans", "登记退役军人", "registered veterans", lambda s: _get(s, "registry", "veterans")),
    (
        "employment_rate",
        "就业创业率",
        "employment and entrepreneurship rate",
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
    ("postings", "发布岗位", "postings published", lambda s: _get(s, "jobs", "postings_published")),
    ("fairs", "举办招聘会", "fairs held", lambda s: _get(s, "jobs", "fairs_held")),
    (
        "consultations",
        "政策咨询服务",
        "consultations served",
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


def table(areas, lang="zh"):
    """Rows of (label, value per area) and the area names."""
    names = [("全州" if lang == "zh" else "prefecture") if area is None else area for area in areas]
    rows = []
    for key, zh, en, value in INDICATORS:
        rows.append((key, zh if lang == "zh" else en, [value(stats) for stats in areas.values()]))
    return names, rows


def as_json(areas):
    return {
        ("prefecture" if area is None else area): {
            key: value(stats) for key, _, _, value in INDICATORS
        }
        for area, stats in areas.items()
    }
