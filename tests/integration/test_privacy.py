"""No log line of a full flow carries an ID number, a phone number or a name."""
import io
import logging

from services.loans.service import LoansService
from services.registry.service import RegistryService
from shared.errors import InvalidInput
from shared.logging import make_handler
from tests.factories import make_veteran
from tests.helpers import scalar, wait_for

import pytest


def test_logs_of_a_full_flow_hold_no_personal_identifiers(start, rpc, db):
    buffer = io.StringIO()
    handler = make_handler(buffer)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        start(RegistryService, LoansService)
        data = make_veteran(name="欧阳娜娜", phone="13912345678")
        veteran = rpc.registry.register_veteran(data)
        with pytest.raises(InvalidInput):  # a rejected one is logged too
            rpc.registry.register_veteran({**data, "county_code": "110101"})
        rpc.registry.find_veteran_by_id_number(data["id_number"])
        rpc.registry.update_veteran(veteran["id"], {"phone": "13700001111", "notes": "手机 13700001111",
                                                    "employment_status": "flexible"})
        rpc.registry.get_card(veteran["id"])
        rpc.registry.reveal_id_number(veteran["id"], "signing the loan contract")
        wait_for(lambda: scalar(db, "SELECT count(*) FROM loans.eligibility_assessments"),
                 message="the assessment")
    finally:
        root.removeHandler(handler)
    logs = buffer.getvalue()
    assert veteran["id"] in logs  # the flow was logged at all
    for secret in (data["id_number"], data["phone"], data["name"], data["address"],
                   "13700001111"):
        assert secret not in logs
