"""What followup's RPCs reply, key for key and value for value: a contract its callers read
(issue 18 moved the rules under them, and left the replies as they were)."""

import uuid

from tests.integration.followup.conftest import envelope, hired

REVISIT_KEYS = [
    "id",
    "veteran_id",
    "county_code",
    "kind",
    "cause_type",
    "due_on",
    "status",
    "due_at",
    "contacted_on",
    "outcome",
    "veteran_satisfaction",
    "employer_rating",
    "completed_at",
]


def test_a_revisit_replies_the_same_keys_from_every_rpc_and_never_its_audit(
    followup, clock, deliver, tick, rpc
):
    vid = str(uuid.uuid4())
    deliver(hired(vid))
    clock.move(days=7)
    tick()
    [work] = rpc.followup.worklist("652301")
    assert list(work) == [*REVISIT_KEYS, "overdue"]
    assert (work["veteran_id"], work["county_code"], work["kind"], work["status"]) == (
        vid,
        "652301",
        "employment",
        "due",
    )
    assert (work["cause_type"], work["due_on"], work["overdue"]) == (
        "veteran_hired",
        "2026-11-09",
        False,
    )
    listed = rpc.followup.list_revisits({"veteran_id": vid})["items"]
    assert [list(item) for item in listed] == [REVISIT_KEYS] * 4
    assert listed[0] == {k: v for k, v in work.items() if k != "overdue"}
    done = rpc.followup.complete_revisit(
        work["id"],
        {
            "contacted_on": "2026-11-08",
            "outcome": "employed_other",
            "veteran_satisfaction": 3,
            "problems": [{"category": "housing", "description": "租房困难"}],
        },
    )
    assert list(done) == [*REVISIT_KEYS, "issues"]
    assert {k: done[k] for k in ("status", "contacted_on", "outcome")} == {
        "status": "done",
        "contacted_on": "2026-11-08",
        "outcome": "employed_other",
    }
    assert (done["veteran_satisfaction"], done["employer_rating"]) == (3, None)
    assert done["completed_at"] is not None and done["due_at"] == work["due_at"]
    [issue] = done["issues"]
    assert list(issue) == ["id", "category", "department"]
    assert issue["category"] == "housing" and uuid.UUID(issue["id"])
    resolved = rpc.followup.resolve_issue(issue["id"], {"resolution": "已协调公租房"})
    assert list(resolved) == [
        "id",
        "revisit_id",
        "veteran_id",
        "county_code",
        "category",
        "department",
        "status",
        "resolution",
        "raised_at",
        "resolved_at",
    ]
    assert {k: resolved[k] for k in ("id", "revisit_id", "veteran_id", "status")} == {
        "id": issue["id"],
        "revisit_id": work["id"],
        "veteran_id": vid,
        "status": "resolved",
    }
    assert resolved["department"] == issue["department"] and resolved["raised_at"] is not None


def test_a_contact_replies_without_its_notes_or_who_recorded_it(followup, clock, deliver, rpc):
    vid = str(uuid.uuid4())
    deliver(
        envelope(
            "registry",
            "employment_status_changed",
            veteran_id=vid,
            previous="unemployed",
            current="employed",
            reason="hired",
            cause_event_id=None,
            county_code="652301",
        )
    )
    contact = rpc.followup.record_contact(
        {"veteran_id": vid.upper(), "channel": "wechat", "topic": "legal_aid", "notes": "备注"}
    )
    assert list(contact) == ["id", "veteran_id", "county_code", "channel", "topic", "recorded_at"]
    assert {k: v for k, v in contact.items() if k not in ("id", "recorded_at")} == {
        "veteran_id": vid,
        "county_code": "652301",
        "channel": "wechat",
        "topic": "legal_aid",
    }
    assert contact["recorded_at"] == clock.now().isoformat()
    anyone = rpc.followup.record_contact(
        {"county_code": "652302", "channel": "hotline", "topic": "other"}
    )
    assert (anyone["veteran_id"], anyone["county_code"]) == (None, "652302")
