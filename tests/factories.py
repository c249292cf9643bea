"""Test data factories: valid by default, overridden per test."""

import collections
import datetime as dt
import random

from stdnum.cn import ric

# A county office's veteran spreadsheet as its clerks head it (vetctl import veterans reads
# these Chinese headers; vetctl/sheets.py lists every spelling it accepts).
COUNTY_SHEET_HEADERS = [
    "身份证号",
    "姓名",
    "手机",
    "县市区代码",
    "退役时间",
    "退役类型",
    "技能",
    "意愿",
    "就业状态",
    "服务需求",
    "意向职业",
    "最低薪资",
]

_next = collections.Counter()  # (county, birth or None, male) → numbers handed out so far
DEFAULT_BIRTH = "19900307"


def id_number(county="652301", birth=None, seq=None, male=True):
    """A valid 18-character ID number (check character computed by stdnum).

    With ``seq``: the same arguments give the same number (gender digit 1 or 2), for tests
    that need one twice. Without: a number no other call in this test run returns: born on
    ``birth`` (YYYYMMDD; sequence 50-99, 200 numbers a day and gender), or when no ``birth``
    is given on 1990-03-07 and the days after it as each day's 200 are used (sequence
    00-49). The gender digit is 3/5/7/9 or 4/6/8/0, so none is ever a ``seq`` number."""
    if seq is not None:
        return _checked(f"{county}{birth or DEFAULT_BIRTH}{seq:02d}{'1' if male else '2'}")
    key = (county, birth, male)
    index = _next[key]
    _next[key] += 1
    if birth is not None and index >= 200:
        raise RuntimeError(f"no unused ID number left born {birth} in {county}")
    day = birth or f"{dt.date(1990, 3, 7) + dt.timedelta(days=index // 200):%Y%m%d}"
    sequence = index % 200 // 4 + (50 if birth is not None else 0)
    return _checked(f"{county}{day}{sequence:02d}{('3579' if male else '4680')[index % 4]}")


def _checked(body):
    return body + ric.calc_check_digit(body + "0")


def make_veteran(**overrides):
    data = {
        "id_number": id_number(),
        "name": "张伟",
        "phone": "13899123456",
        "county_code": "652301",
        "address": "昌吉市建国路 8 号",
        "branch": "army",
        "enlisted_on": "2008-09-01",
        "discharged_on": "2016-12-01",
        "discharge_type": "self_employment",
        "skills": ["driver_b2", "security_guard"],
        "certificates": [],
        "intentions": {"occupations": ["driver"], "counties": ["652301"], "min_salary": 4000},
        "willingness": "business",
        "employment_status": "unemployed",
        "service_needs": ["job_referral", "startup_loan"],
    }
    data.update(overrides)
    return data


def unique_id_numbers(count, county="652301"):
    """``count`` distinct valid ID numbers of varied birth dates, never repeated in a run."""
    return [
        id_number(
            county=county,
            male=random.random() < 0.9,
            birth=f"{random.randrange(1966, 2004)}{random.randrange(1, 13):02d}"
            f"{random.randrange(1, 29):02d}",
        )
        for _ in range(count)
    ]
