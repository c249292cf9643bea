"""The card as a ledger: updates kept as history, status changes announced, reactions to
other services' events, the timeline projection and possible duplicates."""

import datetime as dt
import uuid

import pytest
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_container

from services.registry.service import RegistryService
from shared.errors import Forbidden, InvalidInput, NotFound
from tests.conftest import token
from tests.factories import id_number, make_veteran
from tests.helpers import bureau_now, envelope, publish, scalar


@pytest.fixture
def registry(start):
    return get_container(start(RegistryService), RegistryService)


def deliver(container, config, event, handler):
    with entrypoint_waiter(container, handler, timeout=15):
        publish(config, event, source=event["source"])


def outbox_types(db):
    with db.cursor() as cur:
        cur.execute("SELECT routing_key FROM registry.outbox ORDER BY id")
        return [row[0] for row in cur.fetchall()]


def test_an_update_is_kept_as_history_and_announced(registry, rpc, db):
    veteran = rpc.registry.register_veteran(make_veteran(willingness="job"))
    updated = rpc.registry.update_veteran(
        veteran["id"],
        {
            "willingness": "business",
            "phone": "13912340000",
            "employment_status": "flexible",
            "status_reason": "runs a delivery route",
        },
    )

    assert updated["willingness"] == "business" and updated["employment_status"] == "flexible"
    assert outbox_types(db) == [
        "veteran_registered",
        "veteran_updated",
        "employment_status_changed",
    ]
    changed = scalar(db, "SELECT body FROM registry.outbox WHERE routing_key = 'veteran_updated'")
    # Facts only: the new phone number is history, not news for other services.
    assert changed["data"]["changed"] == {
        "willingness": "business",
        "employment_status": "flexible",
    }
    status = scalar(
        db, "SELECT body FROM registry.outbox WHERE routing_key = 'employment_status_changed'"
    )["data"]
    assert (status["previous"], status["current"], status["reason"]) == (
        "unemployed",
        "flexible",
        "runs a delivery route",
    )
    card = rpc.registry.get_card(veteran["id"])
    fields = {h["field"]: (h["old"], h["new"]) for h in card["history"]}
    assert fields["phone"] == ("13899123456", "13912340000")
    assert fields["willingness"] == ("job", "business")
    assert card["timeline"][0]["type"] in ("veteran_updated", "employment_status_changed")


def test_an_update_that_changes_nothing_writes_nothing(registry, rpc, db):
    veteran = rpc.registry.register_veteran(make_veteran())
    rpc.registry.update_veteran(veteran["id"], {"willingness": veteran["willingness"]})
    assert outbox_types(db) == ["veteran_registered"]
    assert scalar(db, "SELECT count(*) FROM registry.veteran_history") == 0


@pytest.mark.parametrize(
    "data,field",
    [
        ({"id_number": "652301199003071231"}, "id_number"),
        ({"employment_status": "employed"}, "employer"),
        ({"skills": ["juggling"]}, "skills.0"),
        ({"county_code": "110101"}, "county_code"),
        ({"phone": "12345"}, "phone"),
        ("not a dict", "_schema"),
    ],
)
def test_a_bad_update_is_invalid_input_and_changes_nothing(registry, rpc, db, data, field):
    person = make_veteran()
    veteran = rpc.registry.register_veteran(person)
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.update_veteran(veteran["id"], data)
    assert field in caught.value.errors
    # the card as registered (a card read shows the phone and address the reply masked)
    assert rpc.registry.get_veteran(veteran["id"]) == {
        **veteran,
        "phone": person["phone"],
        "address": person["address"],
    }
    assert outbox_types(db) == ["veteran_registered"]


def test_updates_respect_county_scope(registry, rpc, rpc_as):
    other = rpc.registry.register_veteran(make_veteran(county_code="652302"))
    own = rpc.registry.register_veteran(make_veteran(county_code="652301"))
    unknown = str(uuid.uuid4())
    with rpc_as(token("county", ["652301"])) as clerk:
        with pytest.raises(NotFound) as outside:  # another county's card: as a missing one
            clerk.registry.update_veteran(other["id"], {"notes": "x"})
        with pytest.raises(Forbidden) as refused:  # moving a card out of one's counties
            clerk.registry.update_veteran(own["id"], {"county_code": "652302"})
        with pytest.raises(NotFound) as missing:
            clerk.registry.update_veteran(unknown, {"notes": "x"})
    assert str(outside.value) == f"no veteran {other['id']}"
    assert str(missing.value) == f"no veteran {unknown}"
    assert "652302" not in str(refused.value)


def test_a_hire_makes_the_veteran_employed_and_reaches_the_card(registry, rpc, config, db):
    veteran = rpc.registry.register_veteran(make_veteran(employment_status="unemployed"))
    hire = envelope(
        "jobs",
        "veteran_hired",
        application_id=str(uuid.uuid4()),
        veteran_id=veteran["id"],
        posting_id=str(uuid.uuid4()),
        employer_id=str(uuid.uuid4()),
        employer_name="昌吉市顺达物流有限公司",
        county_code="652301",
        started_on="2026-12-01",
        salary=5500,
        channel="referral",
    )
    deliver(registry, config, hire, "on_veteran_hired")
    deliver(registry, config, hire, "on_veteran_hired")  # redelivered: one effect

    card = rpc.registry.get_card(veteran["id"])
    assert card["veteran"]["employment_status"] == "employed"
    assert card["veteran"]["employer"] == "昌吉市顺达物流有限公司"
    assert card["veteran"]["employed_since"] == "2026-12-01"
    assert card["counters"]["hires"] == 1
    assert [e["type"] for e in card["timeline"]].count("veteran_hired") == 1
    status = scalar(
        db, "SELECT body FROM registry.outbox WHERE routing_key = 'employment_status_changed'"
    )["data"]
    assert (status["current"], status["reason"], status["cause_event_id"]) == (
        "employed",
        "veteran_hired",
        hire["event_id"],
    )


def test_leaving_the_job_at_a_revisit_returns_the_veteran_to_unemployed(registry, rpc, config):
    veteran = rpc.registry.register_veteran(
        make_veteran(employment_status="employed", employer="某物流公司")
    )
    for outcome in ("employed_same", "left_job"):
        deliver(
            registry,
            config,
            envelope(
                "followup",
                "revisit_completed",
                revisit_id=str(uuid.uuid4()),
                veteran_id=veteran["id"],
                outcome=outcome,
                satisfaction=3,
            ),
            "on_revisit_completed",
        )
    card = rpc.registry.get_card(veteran["id"])
    assert card["veteran"]["employment_status"] == "unemployed"
    assert card["veteran"]["employer"] is None
    assert card["counters"]["revisits"] == 2


def test_a_certificate_and_its_skills_join_the_card_once(registry, rpc, config, db):
    veteran = rpc.registry.register_veteran(make_veteran(skills=["driver_b2"]))
    for _ in range(2):  # two issues of the same certificate (two distinct events)
        deliver(
            registry,
            config,
            envelope(
                "training",
                "certificate_issued",
                veteran_id=veteran["id"],
                certificate_name="消防设施操作员证",
                cert_no="XF-1",
                skills_granted=["fire_facility_operator", "driver_b2"],
                issued_on="2026-12-30",
            ),
            "on_certificate_issued",
        )
    card = rpc.registry.get_veteran(veteran["id"])
    assert card["skills"] == ["driver_b2", "fire_facility_operator"]
    assert card["certificates"] == ["消防设施操作员证"]
    assert outbox_types(db).count("veteran_updated") == 1


def test_events_of_other_services_land_on_the_timeline_newest_first(registry, rpc, config):
    veteran = rpc.registry.register_veteran(make_veteran())
    vid = veteran["id"]
    events = [
        envelope(
            "loans",
            "loan_eligibility_assessed",
            veteran_id=vid,
            product_code="yongjun_chuangye",
            eligible=True,
            max_amount="300000.00",
            max_term_months=36,
            failed_criteria=[],
            assessment_id=str(uuid.uuid4()),
        ),
        envelope(
            "jobs",
            "application_submitted",
            application_id=str(uuid.uuid4()),
            veteran_id=vid,
            posting_id=str(uuid.uuid4()),
            channel="self",
        ),
        envelope(
            "training",
            "enrolled",
            enrollment_id=str(uuid.uuid4()),
            veteran_id=vid,
            cohort_id=str(uuid.uuid4()),
            course_id=str(uuid.uuid4()),
        ),
        envelope(
            "followup",
            "contact_recorded",
            contact_id=str(uuid.uuid4()),
            veteran_id=vid,
            channel="phone",
            topic="policy_consultation",
        ),
    ]
    registered_at = bureau_now()
    for minute, event in enumerate(events, start=1):  # each a minute after the last
        event["occurred_at"] = (registered_at + dt.timedelta(minutes=minute)).isoformat()
        deliver(registry, config, event, "on_timeline_event")
    card = rpc.registry.get_card(vid)
    types = [e["type"] for e in card["timeline"]]
    assert types[:4] == [
        "contact_recorded",
        "enrolled",
        "application_submitted",
        "loan_eligibility_assessed",
    ]
    assert types[-1] == "veteran_registered"
    assert card["counters"]["applications"] == 1 and card["counters"]["contacts"] == 1
    assert "eligible up to 300000.00" in card["timeline"][3]["summary"]


def test_a_referral_and_the_banks_revisit_land_on_the_card(registry, rpc, config):
    vid = rpc.registry.register_veteran(make_veteran())["id"]
    loan_id = str(uuid.uuid4())
    events = [
        envelope(
            "loans",
            "loan_referred",
            loan_id=loan_id,
            veteran_id=vid,
            product_code="tuiyi_junren_chuangye",
            bank_code="demo_bank_a",
        ),
        envelope(
            "loans",
            "loan_revisit_reported",
            loan_id=loan_id,
            veteran_id=vid,
            visited_on="2026-11-20",
            outcome="operating",
        ),
    ]
    registered_at = bureau_now()
    for minute, event in enumerate(events, start=1):
        event["occurred_at"] = (registered_at + dt.timedelta(minutes=minute)).isoformat()
        deliver(registry, config, event, "on_timeline_event")
    lines = rpc.registry.get_card(vid)["timeline"][:2]
    assert [line["type"] for line in lines] == ["loan_revisit_reported", "loan_referred"]
    assert lines[0]["summary"] == f"bank revisit of loan {loan_id[:8]} on 2026-11-20: operating"
    assert lines[1]["summary"] == f"loan {loan_id[:8]} referred to partner bank demo_bank_a"


def test_a_likely_duplicate_is_accepted_but_flagged_with_the_other_card(registry, rpc):
    first = rpc.registry.register_veteran(
        make_veteran(
            id_number=id_number(birth="19900307", seq=11), name="王强", phone="13800000001"
        )
    )
    # Same name, birth date and county, another ID number (e.g. a typo in one of them).
    second = rpc.registry.register_veteran(
        make_veteran(
            id_number=id_number(birth="19900307", seq=12), name="王强", phone="13800000002"
        )
    )
    # Another name, but the same phone.
    third = rpc.registry.register_veteran(
        make_veteran(
            id_number=id_number(birth="19851111", seq=13), name="刘洋", phone="13800000001"
        )
    )
    assert first["flags"] == [] and first["possible_duplicates"] == []
    assert "possible_duplicate" in second["flags"]
    assert second["possible_duplicates"] == [first["id"]]
    assert third["possible_duplicates"] == [first["id"]]
