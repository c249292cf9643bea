"""vetctl.report without servers: the seed's summary rows read from the services' stats,
and the monthly series (``monthly``) the report's charts draw."""

from vetctl import report

MONTHS = ("2026-10", "2026-11")


def stats():
    """One area's {service: stats} as the services reply (only what the rows read)."""
    return {
        "registry": {
            "veterans": 5,
            "employment_rate": {"working": 2, "base": 4, "rate": 0.5},
            "by_month": {
                "2026-10": {"registered": 4, "working": 1, "base": 4, "employment_rate": 0.25},
                "2026-11": {"registered": 5, "working": 2, "base": 4, "employment_rate": 0.5},
            },
        },
        "loans": {
            "by_month": {
                "2026-10": {"loans_disbursed": 0, "loans_amount": "0.00"},
                "2026-11": {"loans_disbursed": 2, "loans_amount": "150000.00"},
            }
        },
        "jobs": {
            "postings_published": 3,
            "openings": 12,
            "fairs_held": 4,
            "fairs_by_mode": {"online_live": 1, "offline": 2, "hybrid": 1},
            "intentions_reached": 6,
            "dedicated_referrals_placed": 2,
            "auxiliary_police_placements": 1,
            "village_cadre_placements": 3,
        },
        "training": {
            "training_bases": 1,
            "incubation_bases": 2,
            "mentors": 7,
            "by_month": {
                "2026-10": {"placed_after_training": 1},
                "2026-11": {"placed_after_training": 0},
            },
        },
        "followup": {
            "contacts": {"total": 9, "by_channel": {}},
            "by_month": {
                "2026-10": {"retention_90": 0.75, "satisfaction": None, "revisits_done": 0},
                "2026-11": {"retention_90": None, "satisfaction": 4.5, "revisits_done": 2},
            },
        },
    }


def rows(areas, lang="zh"):
    _, table = report.table(areas, lang)
    return {key: (label, values) for key, label, values in table}


def test_every_figure_of_the_seeds_summary_has_a_row_read_from_the_stats():
    got = rows({None: stats()})
    assert got["postings"] == ("发布用工信息（次）", [3])
    assert got["openings"] == ("发布用工信息（个岗位）", [12])
    assert got["fairs"] == ("举办招聘会（线上直播+线下面试，场）", [4])
    assert got["fairs_online_live"][1] == [1] and got["fairs_offline"][1] == [2]
    assert got["fairs_hybrid"][1] == [1]
    assert got["consultations"] == ("咨询服务人次", [9])
    assert got["intentions"] == ("达成就业意向", [6])
    assert got["dedicated_referrals"] == ("专岗推荐就业", [2])
    assert got["auxiliary_police_placements"] == ("辅警岗位就业（人）", [1])
    assert got["village_cadre_placements"] == ("村（社区）“两委”岗位就业（人）", [3])
    assert got["training_bases"] == ("培训基地", [1])
    assert got["incubation_bases"] == ("孵化基地", [2])
    assert got["mentors"] == ("创业导师", [7])


def test_the_fairs_by_mode_add_up_to_the_fairs_held():
    got = rows({None: stats()})
    modes = ("fairs_online_live", "fairs_offline", "fairs_hybrid")
    assert sum(got[key][1][0] for key in modes) == got["fairs"][1][0]


def test_a_service_that_did_not_answer_leaves_its_new_rows_empty():
    area = stats()
    area["jobs"] = None
    got = report.as_json({"652301": area})["652301"]
    assert got["openings"] is None and got["auxiliary_police_placements"] is None
    assert got["consultations"] == 9


def test_monthly_gives_every_area_each_month_with_every_charted_figure():
    got = report.monthly({"652301": stats(), None: stats()})
    assert list(got) == ["652301", "prefecture"]
    assert list(got["prefecture"]) == list(MONTHS)
    assert got["652301"]["2026-11"] == {
        "employment_rate": 0.5,
        "loans_disbursed": 2,
        "loans_amount": "150000.00",
        "placed_after_training": 0,
        "retention_90": None,
        "satisfaction": 4.5,
    }
    assert got["652301"]["2026-10"]["retention_90"] == 0.75
    assert set(got["652301"]["2026-10"]) == {key for key, *_ in report.MONTHLY}


def test_monthly_keeps_the_months_of_the_services_that_answered():
    area = stats()
    area["loans"] = None  # loans down: its figures empty, the months still there
    got = report.monthly({"652302": area})["652302"]
    assert list(got) == list(MONTHS)
    assert got["2026-11"]["loans_disbursed"] is None
    assert got["2026-11"]["employment_rate"] == 0.5


def test_monthly_of_an_area_no_service_answered_is_empty():
    assert report.monthly({"652303": dict.fromkeys(stats())}) == {"652303": {}}
