"""Records for training's unit tests: ``make_<record>(**overrides)``."""

import datetime as dt

from services.training import domain, placement_domain

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 1)


def origin(id_="new-1"):
    return domain.Origin(id_, NOW, "op-1")


def make_base(**overrides):
    return domain.Base(
        **{
            "id": "b1",
            "name": "昌吉州职业技能培训学校",
            "kind": "training",
            "county_code": "652301",
            "capacity": 200,
            "operator": None,
            "created_at": NOW,
            "created_by": "op-1",
            **overrides,
        }
    )


def make_course(**overrides):
    return domain.Course(
        **{
            "id": "c1",
            "title": "消防设施操作员（初级）",
            "occupation": "fire_facility_operator",
            "certificate_name": "消防设施操作员证",
            "skills_granted": ["fire_facility_operator"],
            "theory_hours": 40,
            "practical_hours": 60,
            "mode": "hybrid",
            "base_id": "b1",
            "county_code": "652301",
            "theory_pass": 60,
            "practical_pass": 60,
            "created_at": NOW,
            "created_by": "op-1",
            **overrides,
        }
    )


def make_cohort(**overrides):
    return domain.Cohort(
        **{
            "id": "h1",
            "course_id": "c1",
            "county_code": "652301",
            "starts_on": TODAY + dt.timedelta(days=3),
            "ends_on": TODAY + dt.timedelta(days=33),
            "capacity": 30,
            "enrolled": 0,
            "created_at": NOW,
            "created_by": "op-1",
            **overrides,
        }
    )


def make_veteran(**overrides):
    return domain.Veteran(
        **{
            "veteran_id": "v1",
            "county_code": "652302",
            "skills": [],
            "occupations": [],
            "service_needs": [],
            "willingness": "job",
            "employment_status": "unemployed",
            **overrides,
        }
    )


def make_enrollment(**overrides):
    return domain.Enrollment(
        **{
            "id": "e1",
            "cohort_id": "h1",
            "course_id": "c1",
            "veteran_id": "v1",
            "county_code": "652302",
            "status": "enrolled",
            "enrolled_at": NOW,
            "created_by": "op-1",
            **overrides,
        }
    )


def make_competition(**overrides):
    return domain.Competition(
        **{
            "id": "k1",
            "year": 2026,
            "title": "退役军人创业创新大赛",
            "groups": ["modern_agriculture", "services"],
            "county_code": None,
            "created_at": NOW,
            "created_by": "op-1",
            **overrides,
        }
    )


def make_entry(**overrides):
    return domain.Entry(
        **{
            "id": "n1",
            "competition_id": "k1",
            "veteran_id": "v1",
            "county_code": "652302",
            "project": "戈壁滩温室大棚",
            "group": "modern_agriculture",
            "submitted_at": NOW,
            **overrides,
        }
    )


def make_open_cohort(**overrides):
    return placement_domain.OpenCohort(
        **{
            "id": "h1",
            "course_id": "c1",
            "starts_on": TODAY + dt.timedelta(days=3),
            "ends_on": TODAY + dt.timedelta(days=33),
            "capacity": 30,
            "enrolled": 0,
            "county_code": "652301",
            "title": "驾驶员",
            "occupation": "driver",
            "skills_granted": ["driver_b2"],
            "certificate_name": "驾驶证",
            "mode": "offline",
            **overrides,
        }
    )
