"""What the enterprise integration tests build booklets from: valid USCCs, registration
data, and registry's outbox as the tests read it."""

import random

from stdnum.cn import uscc as uscc_number

from tests.conftest import token

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CLERK_652301 = token("county", ["652301"], operator="clerk-652301")
UNKNOWN_ID = "5b0c5d0e-1d2b-4f7e-9a51-3c8a43c7e0aa"
GOOD_USCC = "91652301MA78K2Q5X" + uscc_number.calc_check_digit("91652301MA78K2Q5X")
BAD_CHECK_USCC = GOOD_USCC[:17] + ("0" if GOOD_USCC[17] != "0" else "1")


def valid_uscc(county="652301", kind="91"):
    """A unified social credit code with the right check character (stdnum computes it)."""
    body = kind + county + "".join(random.choice(ALPHABET) for _ in range(9))
    return body + uscc_number.calc_check_digit(body)


def make_enterprise(founders, **overrides):
    data = {
        "kind": "enterprise",
        "uscc": valid_uscc(),
        "name": "昌吉市戎创商贸有限公司",
        "county_code": "652301",
        "industry": "ecommerce",
        "founded_on": "2025-05-01",
        "stage": "startup",
        "founder_ids": list(founders),
        "employees": 6,
        "veteran_employees": 3,
    }
    data.update(overrides)
    return data


def outbox(db, routing_key=None):
    with db.cursor() as cur:
        if routing_key:
            cur.execute(
                "SELECT body FROM registry.outbox WHERE routing_key = %s ORDER BY id",
                (routing_key,),
            )
        else:
            cur.execute("SELECT routing_key FROM registry.outbox ORDER BY id")
        return [row[0] for row in cur.fetchall()]
