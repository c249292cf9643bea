"""No log line of a full flow carries an ID number, a phone number or a name."""

import io
import logging
from datetime import timedelta

import pytest

from services.jobs.service import JobsService
from services.loans.service import LoansService
from services.registry.service import RegistryService
from shared.errors import InvalidInput
from shared.logging import make_handler
from tests.factories import make_veteran
from tests.helpers import bureau_today, scalar, wait_for


def test_logs_of_a_full_flow_hold_no_personal_identifiers(start, rpc, db):
    buffer = io.StringIO()
    handler = make_handler(buffer)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        start(RegistryService, LoansService, JobsService)
        data = make_veteran(name="欧阳娜娜", phone="13912345678")
        veteran = rpc.registry.register_veteran(data)
        with pytest.raises(InvalidInput):  # a rejected one is logged too
            rpc.registry.register_veteran({**data, "county_code": "110101"})
        with pytest.raises(InvalidInput):  # its values in the rejected fields
            rpc.registry.register_veteran(
                {**data, "phone": "１３９１２３４５６７８", "birth_date": data["id_number"]}
            )
        rpc.registry.find_veteran_by_id_number(data["id_number"])
        rpc.registry.update_veteran(
            veteran["id"],
            {"phone": "13700001111", "notes": "手机 13700001111", "employment_status": "flexible"},
        )
        rpc.registry.get_card(veteran["id"])
        rpc.registry.reveal_id_number(veteran["id"], "signing the loan contract")
        wait_for(
            lambda: scalar(db, "SELECT count(*) FROM loans.eligibility_assessments"),
            message="the assessment",
        )
        # jobs: an employer's contact, an application to a hire, and back to registry.
        employer = rpc.jobs.register_employer(
            {
                "name": "昌吉市顺达物流有限公司",
                "uscc": "91652301MA78K2Q5X3",
                "county_code": "652301",
                "industry": "logistics",
                "contact_name": "司马光明",
                "contact_phone": "13655554444",
            }
        )
        posting = rpc.jobs.post_job(
            {
                "employer_id": employer["id"],
                "title": "货车司机",
                "occupation": "driver",
                "county_code": "652301",
                "salary_min": 5000,
                "salary_max": 7000,
                "openings": 1,
                "closes_on": (bureau_today() + timedelta(days=30)).isoformat(),
            }
        )
        wait_for(lambda: scalar(db, "SELECT count(*) FROM jobs.veterans"), message="projection")
        application = rpc.jobs.apply(
            {"veteran_id": veteran["id"], "posting_id": posting["id"], "channel": "referral"}
        )
        rpc.jobs.advance_application(
            application["id"], "offered", note="欧阳娜娜: 电话 13655554444 已通知"
        )
        rpc.jobs.hire(application["id"], {"started_on": bureau_today().isoformat(), "salary": 5500})
        rpc.jobs.match_candidates(posting["id"])
        wait_for(
            lambda: rpc.registry.get_veteran(veteran["id"])["employment_status"] == "employed",
            message="the hire on the card",
        )
    finally:
        root.removeHandler(handler)
    logs = buffer.getvalue()
    assert veteran["id"] in logs  # the flow was logged at all
    assert application["id"] in logs
    # expected errors: one line each, the error and the fields, no traceback
    assert "expected error InvalidInput in registry.register_veteran (fields: county_code)" in logs
    assert "(fields: birth_date, phone)" in logs
    assert "Traceback" not in logs
    for secret in (
        data["id_number"],
        data["phone"],
        data["name"],
        data["address"],
        "13700001111",
        "司马光明",
        "13655554444",
        "１３９１２３４５６７８",
        "９１２３",
    ):
        assert secret not in logs
