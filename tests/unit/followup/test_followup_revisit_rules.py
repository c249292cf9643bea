"""followup's rules for the work on revisits, without servers: completing a revisit and
escalating its problems, resolving an issue, recording a contact, overdue and the
statistics' figures."""

import datetime as dt
import uuid

import pytest

from services.followup import domain
from shared.errors import Conflict, InvalidInput, NotFound
from tests.unit.followup.followup_records import (
    DEPARTMENTS,
    NOW,
    TODAY,
    completion,
    contact_input,
    make_issue,
    make_revisit,
)

VETERAN = "5b0c5d0e-1d2b-4f7e-9a51-3c8a43c7e0aa"


def complete(revisit=None, command=None, today=TODAY, ids=None):
    ids = iter(ids or ["i1", "i2", "i3"])
    return domain.complete(
        revisit or make_revisit(),
        command or completion(),
        DEPARTMENTS,
        today,
        NOW,
        "op-1",
        lambda: next(ids),
    )


def test_a_completed_revisit_keeps_the_visit_and_who_did_it_and_is_announced():
    done, issues, events = complete(command=completion(outcome="left_job", employer_rating=2))
    assert done == make_revisit(
        status="done",
        contacted_on=TODAY,
        outcome="left_job",
        veteran_satisfaction=4,
        employer_rating=2,
        completed_at=NOW,
        completed_by="op-1",
    )
    assert issues == []
    assert [(e.type, e.data) for e in events] == [
        (
            "revisit_completed",
            {"revisit_id": "r1", "veteran_id": "v1", "outcome": "left_job", "satisfaction": 4},
        )
    ]


def test_each_problem_becomes_an_issue_for_its_categorys_department_announced_after_the_visit():
    problems = [
        {"category": "wages", "description": "加班费未按时发放"},
        {"category": "housing", "description": "租房困难"},
    ]
    _, issues, events = complete(command=completion(problems=problems))
    assert issues == [
        make_issue(),
        make_issue(
            id="i2", category="housing", department="住房和城乡建设局", description="租房困难"
        ),
    ]
    assert [e.type for e in events] == ["revisit_completed", "issue_escalated", "issue_escalated"]
    assert events[2].data == {
        "issue_id": "i2",
        "veteran_id": "v1",
        "category": "housing",
        "department": "住房和城乡建设局",
    }  # never the description


def test_an_issue_belongs_to_the_revisits_county_and_veteran():
    revisit = make_revisit(county_code="652327", veteran_id="v9")
    _, [issue], _ = complete(
        revisit, completion(problems=[{"category": "other", "description": "x"}])
    )
    assert (issue.county_code, issue.veteran_id, issue.revisit_id) == ("652327", "v9", "r1")


def test_a_revisit_may_be_done_before_its_day_but_not_on_a_day_still_to_come():
    early = make_revisit(due_on=TODAY + dt.timedelta(days=20), status="scheduled")
    done, _, _ = complete(early, completion(contacted_on=TODAY))
    assert done.status == "done"
    with pytest.raises(InvalidInput) as refused:
        complete(command=completion(contacted_on=TODAY + dt.timedelta(days=1)))
    assert refused.value.errors == {"contacted_on": ["is in the future"]}
    assert str(refused.value) == "invalid input: contacted_on: is in the future"


def test_a_revisit_done_already_is_a_conflict_naming_it():
    with pytest.raises(Conflict) as clash:
        complete(make_revisit(status="done"))
    assert clash.value.details == {"revisit_id": "r1"}


def test_a_done_revisit_is_a_conflict_even_with_a_future_day():
    with pytest.raises(Conflict):
        complete(make_revisit(status="done"), completion(contacted_on=TODAY + dt.timedelta(days=3)))


def test_an_overdue_revisit_can_still_be_done():
    done, _, _ = complete(make_revisit(status="overdue"))
    assert done.status == "done"


def test_resolving_an_issue_keeps_the_resolution_who_and_when():
    resolved = domain.resolve(make_issue(), "已督促企业补发", NOW, "op-2")
    assert resolved == make_issue(
        status="resolved", resolution="已督促企业补发", resolved_at=NOW, resolved_by="op-2"
    )


def test_an_issue_resolved_already_is_a_conflict_naming_it():
    with pytest.raises(Conflict) as clash:
        domain.resolve(make_issue(status="resolved"), "again", NOW, "op-2")
    assert clash.value.details == {"issue_id": "i1"}


def origin():
    return domain.Origin("c1", NOW, "op-1")


def test_a_contact_with_a_veteran_belongs_to_the_veterans_county_not_the_one_named():
    command = contact_input(veteran_id=uuid.UUID(VETERAN), county_code="652302", notes="备注")
    contact, events = domain.record_contact(command, "652301", origin())
    assert contact == domain.Contact(
        id="c1",
        veteran_id=VETERAN,
        county_code="652301",
        channel="phone",
        topic="policy_consultation",
        notes="备注",
        recorded_at=NOW,
        recorded_by="op-1",
    )
    assert [(e.type, e.data) for e in events] == [
        (
            "contact_recorded",
            {
                "contact_id": "c1",
                "veteran_id": VETERAN,
                "channel": "phone",
                "topic": "policy_consultation",
            },
        )
    ]  # never the notes


@pytest.mark.parametrize("named", [None, "652301"])
def test_a_contact_with_a_veteran_followup_does_not_know_is_not_found_even_naming_a_county(named):
    command = contact_input(veteran_id=uuid.UUID(VETERAN), county_code=named)
    with pytest.raises(NotFound) as unknown:
        domain.record_contact(command, None, origin())
    assert str(unknown.value) == (
        f"followup has no veteran {VETERAN} (registered veterans "
        "reach followup through registry's events)"
    )


def test_a_contact_without_a_veteran_is_filed_under_the_county_named():
    contact, _ = domain.record_contact(contact_input(county_code="652302"), None, origin())
    assert (contact.veteran_id, contact.county_code) == (None, "652302")


def test_a_contact_with_neither_veteran_nor_county_is_invalid_input_naming_the_county():
    with pytest.raises(InvalidInput) as refused:
        domain.record_contact(contact_input(), "652301", origin())
    assert refused.value.errors == {"county_code": ["is required when no veteran_id is given"]}


def test_revisits_before_the_grace_period_are_overdue():
    assert domain.overdue_before(TODAY, 7) == TODAY - dt.timedelta(days=7)
    assert domain.is_overdue(TODAY - dt.timedelta(days=8), TODAY, 7)
    assert not domain.is_overdue(TODAY - dt.timedelta(days=7), TODAY, 7)
    assert domain.is_overdue(TODAY - dt.timedelta(days=1), TODAY, 0)


def test_the_figures_name_every_category_and_channel_and_round_the_averages():
    revisits = {
        "scheduled": 8,
        "done": 3,
        "due": 2,
        "overdue": 1,
        "satisfaction": 3.666666,
        "employer_rating": None,
    }
    got = domain.figures(revisits, {"wages": {"open": 1, "resolved": 2}}, {"phone": 2, "visit": 1})
    assert got["revisits"] == {"scheduled": 8, "done": 3, "due": 2, "overdue": 1}
    assert (got["average_satisfaction"], got["average_employer_rating"]) == (3.67, None)
    assert got["issues"]["wages"] == {"open": 1, "resolved": 2}
    assert got["issues"]["family"] == {"open": 0, "resolved": 0}
    assert list(got["issues"]) == list(domain.CATEGORIES)
    assert got["contacts"] == {
        "total": 3,
        "by_channel": {"phone": 2, "wechat": 0, "visit": 1, "service_center": 0, "hotline": 0},
    }
