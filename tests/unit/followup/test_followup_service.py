"""followup's entrypoints without servers (``worker_factory``, a mocked store): the domain
decides, the store keeps, the outbox hears of it last, and a refusal stores nothing."""

import datetime as dt

import pytest
from nameko.testing.services import worker_factory

from services.followup.scheduler import Settings
from services.followup.service import FollowupService
from shared.auth import Caller, Operator
from shared.clock import FrozenClock
from shared.errors import Conflict, Forbidden, NotFound
from tests.unit.followup.followup_records import (
    NOW,
    PLANS,
    TODAY,
    contact_input,
    make_revisit,
)

CLERK = Caller(Operator("op-1", "clerk", "county", ("652301", "652302")))
ID = "5b0c5d0e-1d2b-4f7e-9a51-3c8a43c7e0aa"  # any well-formed id: the store is a mock


def make_service():
    return worker_factory(
        FollowupService,
        clock=FrozenClock(NOW),
        auth=CLERK,
        plans=PLANS,
        scheduler=Settings(batch=10, lease_seconds=60, instance="here:1:ab"),
    )


def emitted(service):
    return [event for call in service.store.emit.call_args_list for event in call.args]


def calls(service):
    return [name for name, _, _ in service.store.method_calls]


def completing(revisit):
    service = make_service()
    saved = service.store.save_completion
    # the revisit is read, then read back as the completion saved it
    service.store.revisit.side_effect = lambda *_, **__: (
        saved.call_args.args[0] if saved.called else revisit
    )
    return service


def test_a_completion_is_saved_then_its_issues_then_announced_then_read_back():
    service = completing(make_revisit())
    reply = service.complete_revisit(
        ID,
        {
            "contacted_on": TODAY.isoformat(),
            "outcome": "employed_same",
            "problems": [{"category": "wages", "description": "加班费未按时发放"}],
        },
    )
    assert calls(service) == ["revisit", "save_completion", "add_issues", "emit", "revisit"]
    [issue] = service.store.add_issues.call_args.args[0]
    assert [e.type for e in emitted(service)] == ["revisit_completed", "issue_escalated"]
    assert reply["issues"] == [
        {"id": issue.id, "category": "wages", "department": PLANS["departments"]["wages"]}
    ]
    assert (reply["status"], reply["completed_at"]) == ("done", NOW.isoformat())
    assert not {"cause_event_id", "created_at", "completed_by"} & set(reply)


def test_a_revisit_done_already_saves_and_announces_nothing():
    service = completing(make_revisit(status="done"))
    with pytest.raises(Conflict):
        service.complete_revisit(ID, {"contacted_on": TODAY.isoformat(), "outcome": "unreachable"})
    assert calls(service) == ["revisit"]


def test_another_countys_revisit_is_answered_as_a_missing_one():
    service = completing(make_revisit(county_code="652327"))
    with pytest.raises(NotFound, match=f"no revisit {ID}"):
        service.complete_revisit(ID, {"contacted_on": TODAY.isoformat(), "outcome": "unreachable"})
    assert calls(service) == ["revisit"]


def test_a_contact_is_filed_under_its_veterans_county_then_announced():
    service = make_service()
    service.store.county_of.return_value = "652302"
    reply = service.record_contact(contact_input(veteran_id=ID, county_code="652301"))
    assert calls(service) == ["county_of", "add_contact", "emit"]
    [contact] = service.store.add_contact.call_args.args
    assert (contact.county_code, contact.recorded_by, reply["id"]) == ("652302", "op-1", contact.id)
    assert [e.data["contact_id"] for e in emitted(service)] == [contact.id]


def test_a_veteran_outside_the_callers_counties_is_not_found_and_nothing_is_stored():
    service = make_service()
    service.store.county_of.return_value = "652327"
    with pytest.raises(NotFound, match=f"followup has no veteran {ID}"):
        service.record_contact(contact_input(veteran_id=ID, county_code="652301"))
    assert calls(service) == ["county_of"]


def test_a_contact_filed_under_another_county_is_forbidden_and_nothing_is_stored():
    service = make_service()
    with pytest.raises(Forbidden):
        service.record_contact(contact_input(county_code="652327"))
    assert calls(service) == []


def test_a_tick_marks_its_claims_due_announces_them_and_sweeps_past_the_grace_period():
    service = make_service()
    service.store.claim_due.return_value = [ID]
    service.store.mark_due.return_value = [make_revisit(id=ID)]
    service.store.mark_overdue.return_value = 0
    assert service.run_scheduler() == 1
    assert calls(service) == ["claim_due", "mark_due", "emit", "mark_overdue"]
    assert service.store.mark_due.call_args.args == ("here:1:ab", [ID], NOW)
    assert [(e.type, e.data["revisit_id"]) for e in emitted(service)] == [("revisit_due", ID)]
    assert service.store.mark_overdue.call_args.args == (TODAY - dt.timedelta(days=7), 100)


def test_a_stats_reply_counts_every_category_and_channel():
    service = make_service()
    service.store.stats.return_value = (
        {
            "scheduled": 4,
            "done": 1,
            "due": 1,
            "overdue": 0,
            "satisfaction": 4,
            "employer_rating": None,
        },
        {},
        {"phone": 1},
    )
    service.store.retention_inputs.return_value = ([], [], [])
    service.store.revisits_by_month.return_value = {
        "2026-10": {"revisits_done": 2, "satisfaction": 3.5}
    }
    reply = service.stats("652301")
    assert service.store.stats.call_args.args == (["652301"], TODAY, TODAY - dt.timedelta(days=7))
    assert list(reply) == [
        "county_code",
        "counties",
        "revisits",
        "average_satisfaction",
        "average_employer_rating",
        "issues",
        "contacts",
        "retention",
        "by_month",
    ]
    assert reply["contacts"]["total"] == 1 and reply["average_satisfaction"] == 4.0
    # Twelve bureau months ending with November 2026, the revisits in theirs, zero elsewhere.
    first, end, tz = service.store.revisits_by_month.call_args.args[1:]
    assert (first.isoformat(), end.isoformat(), tz) == (
        "2025-12-01T00:00:00+08:00",
        "2026-12-01T00:00:00+08:00",
        "Asia/Shanghai",
    )
    assert next(iter(reply["by_month"])) == "2025-12" and len(reply["by_month"]) == 12
    assert reply["by_month"]["2026-10"]["revisits_done"] == 2
    assert reply["by_month"]["2026-10"]["satisfaction"] == 3.5
    assert reply["by_month"]["2026-11"] == {
        "hires_judged": 0,
        "retained": 0,
        "retention_90": None,
        "revisits_done": 0,
        "satisfaction": None,
    }
