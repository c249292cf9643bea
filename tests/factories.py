"""Test data factories: valid by default, overridden per test."""
import random

from stdnum.cn import ric


def id_number(county="652301", birth="19900307", seq=None, male=True):
    """A valid 18-character ID number (check character computed by stdnum)."""
    seq = seq if seq is not None else random.randrange(0, 99)
    gender_digit = random.choice("13579" if male else "02468")
    body = f"{county}{birth}{seq:02d}{gender_digit}"
    return body + ric.calc_check_digit(body + "0")


def make_veteran(**overrides):
    data = {
        "id_number": id_number(seq=random.randrange(100)),
        "name": "张伟", "phone": "13899123456",
        "county_code": "652301", "address": "昌吉市建国路 8 号",
        "branch": "army", "enlisted_on": "2008-09-01", "discharged_on": "2016-12-01",
        "discharge_type": "self_employment",
        "skills": ["driver_b2", "security_guard"], "certificates": [],
        "intentions": {"occupations": ["driver"], "counties": ["652301"], "min_salary": 4000},
        "willingness": "business",
        "employment_status": "unemployed",
        "service_needs": ["job_referral", "startup_loan"],
    }
    data.update(overrides)
    return data


def unique_id_numbers(count, county="652301"):
    """``count`` distinct valid ID numbers (varying birth date and sequence)."""
    seen, out = set(), []
    while len(out) < count:
        birth = f"{random.randrange(1966, 2004)}{random.randrange(1, 13):02d}{random.randrange(1, 29):02d}"
        number = id_number(county=county, birth=birth, seq=random.randrange(100),
                           male=random.random() < 0.9)
        if number not in seen:
            seen.add(number)
            out.append(number)
    return out
