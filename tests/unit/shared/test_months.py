"""The statistics' months (shared.months): the last twelve of the bureau's calendar, the
bureau's zone deciding an instant's month, and every month present even when empty."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from shared import months

SHANGHAI = ZoneInfo("Asia/Shanghai")
URUMQI = ZoneInfo("Asia/Urumqi")


def test_the_last_twelve_months_end_with_todays_oldest_first_across_a_new_year():
    assert months.last_months(dt.date(2026, 3, 31)) == [
        "2025-04",
        "2025-05",
        "2025-06",
        "2025-07",
        "2025-08",
        "2025-09",
        "2025-10",
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
        "2026-03",
    ]


def test_january_and_december_stay_in_their_own_years():
    assert months.last_months(dt.date(2026, 1, 1), 2) == ["2025-12", "2026-01"]
    assert months.last_months(dt.date(2026, 12, 31), 1) == ["2026-12"]


def test_half_past_eleven_utc_on_a_months_last_day_is_the_next_month_in_beijing():
    instant = dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC)
    assert months.month_of(instant, SHANGHAI) == "2026-02"
    assert months.month_of(instant, dt.UTC) == "2026-01"


def test_the_zone_decides_the_month_just_before_midnight_on_its_own_wall_clock():
    # 15:59 UTC is 23:59 in Beijing and 21:59 in Urumqi; 16:00 UTC is Beijing's midnight.
    assert months.month_of(dt.datetime(2026, 4, 30, 15, 59, tzinfo=dt.UTC), SHANGHAI) == "2026-04"
    assert months.month_of(dt.datetime(2026, 4, 30, 16, 0, tzinfo=dt.UTC), SHANGHAI) == "2026-05"
    assert months.month_of(dt.datetime(2026, 4, 30, 17, 30, tzinfo=dt.UTC), URUMQI) == "2026-04"


def test_a_naive_instant_has_no_month():
    with pytest.raises(ValueError, match="time zone"):
        months.month_of(dt.datetime(2026, 1, 31, 23, 30), SHANGHAI)


def test_a_month_ends_at_the_bureaus_midnight_starting_the_next():
    ends = months.ends(["2025-12", "2026-02"], SHANGHAI)
    assert [end.astimezone(dt.UTC) for end in ends] == [
        dt.datetime(2025, 12, 31, 16, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 2, 28, 16, 0, tzinfo=dt.UTC),
    ]
    assert months.start("2026-03", SHANGHAI) == ends[1]


def test_the_dates_of_a_run_of_months_end_before_the_next_months_first_day():
    assert months.span(["2025-12", "2026-01", "2026-02"]) == (
        dt.date(2025, 12, 1),
        dt.date(2026, 3, 1),
    )
    assert months.next_first_day("2024-02") == dt.date(2024, 3, 1)


def test_a_month_with_nothing_reads_as_the_zeros_and_rows_outside_are_dropped():
    got = months.series(
        ["2026-01", "2026-02", "2026-03"],
        {"2026-02": {"n": 3, "average": 4.5}, "2025-12": {"n": 9, "average": 1}},
        {"n": 0, "average": None},
    )
    assert got == {
        "2026-01": {"n": 0, "average": None},
        "2026-02": {"n": 3, "average": 4.5},
        "2026-03": {"n": 0, "average": None},
    }
    assert list(got) == ["2026-01", "2026-02", "2026-03"]


def test_a_row_missing_a_figure_gets_that_figures_zero():
    got = months.series(["2026-01"], {"2026-01": {"n": 2}}, {"n": 0, "amount": 0})
    assert got == {"2026-01": {"n": 2, "amount": 0}}


def test_postgresql_gets_the_zones_iana_name():
    assert months.zone_name(URUMQI) == "Asia/Urumqi"
    with pytest.raises(ValueError):
        months.zone_name(dt.timezone(dt.timedelta(hours=8)))


def test_the_sql_buckets_in_the_named_zone_not_the_sessions():
    assert months.month_sql("completed_at") == (
        "to_char(completed_at AT TIME ZONE %(tz)s, 'YYYY-MM')"
    )
