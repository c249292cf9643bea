"""vetctl loans relief: a subject's tax relief entitlement, as loans computes it from
registry's events."""

import json
import uuid

from tests.helpers import bureau_today, envelope, publish, registered_event, scalar, wait_for


def test_loans_relief_prints_a_veterans_entitlement(system, vetctl, config, db):
    veteran = registered_event()
    vid = veteran["data"]["veteran_id"]
    publish(config, veteran)
    founded = bureau_today().replace(month=1, day=15)  # twelve months of this year
    shop = {
        "enterprise_id": str(uuid.uuid4()),
        "kind": "individual_business",
        "county_code": "652301",
        "industry": "catering",
        "stage": "operating",
        "founder_ids": [vid],
        "founded_on": founded.isoformat(),
    }
    publish(config, envelope("registry", "enterprise_registered", **shop))
    year = str(founded.year)

    wait_for(
        lambda: scalar(
            db, "SELECT count(*) FROM loans.enterprises WHERE kind = 'individual_business'"
        ),
        message="loans' projection of the business",
    )
    got = json.loads(vetctl("--json", "loans", "relief", "--veteran", vid, "--year", year))
    assert (got["cap"], got["months"]) == ("20000.00", 12)
    shown = vetctl("loans", "relief", "--veteran", vid, "--year", year)
    assert "20000.00" in shown and "tax-se-2023" in shown and "within_36_months" in shown
    refused = vetctl("loans", "relief", "--year", year, expect=1)
    assert "give one of" in refused
