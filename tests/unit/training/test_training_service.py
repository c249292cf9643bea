"""training's entrypoints without servers (``worker_factory``, a mocked store): the domain
decides, the store keeps, the outbox hears of it last, and a refusal stores nothing."""

import pytest
from nameko.testing.services import worker_factory

from services.training.service import TrainingService
from shared.auth import Caller, Operator
from shared.clock import FrozenClock
from shared.errors import Conflict, InvalidInput
from tests.unit.training.training_records import (
    NOW,
    make_cohort,
    make_course,
    make_enrollment,
    make_veteran,
)

CLERK = Caller(Operator("op-1", "clerk", "county", ("652301", "652302")))
ID = "5b0c5d0e-1d2b-4f7e-9a51-3c8a43c7e0aa"  # any well-formed id: the store is a mock


def make_service():
    return worker_factory(TrainingService, clock=FrozenClock(NOW), auth=CLERK)


def emitted(service):
    return [event for call in service.store.emit.call_args_list for event in call.args]


def enrolling():
    service = make_service()
    service.store.cohort.return_value = make_cohort()
    service.store.veteran.return_value = make_veteran()
    return service


def test_an_enrollment_is_stored_then_its_seat_taken_then_announced():
    service = enrolling()
    reply = service.enroll(ID, ID)
    assert [name for name, _, _ in service.store.method_calls] == [
        "cohort",
        "veteran",
        "add_enrollment",
        "take_seat",
        "emit",
    ]
    assert [(e.type, e.data["enrollment_id"]) for e in emitted(service)] == [
        ("enrolled", reply["id"])
    ]
    assert set(reply) == {
        "id",
        "cohort_id",
        "course_id",
        "veteran_id",
        "county_code",
        "status",
        "enrolled_at",
    }


def test_a_full_cohort_announces_nothing():
    service = enrolling()
    service.store.take_seat.side_effect = Conflict("the cohort is full", {"cohort_id": "h1"})
    with pytest.raises(Conflict, match="the cohort is full"):
        service.enroll(ID, ID)
    assert emitted(service) == []


def recording(theory_pass=60):
    service = make_service()
    enrolled = make_enrollment(county_code="652301")
    saved = service.store.save_result
    # the enrollment is read, then read back as the result saved it
    service.store.enrollment.side_effect = lambda *_, **__: (
        saved.call_args.args[0] if saved.called else enrolled
    )
    service.store.course.return_value = make_course(theory_pass=theory_pass)
    service.store.next_certificate_number.return_value = 7
    return service


def test_a_failed_result_draws_no_certificate_number():
    service = recording()
    reply = service.record_result(ID, {"theory_score": 59, "practical_score": 90})
    assert not service.store.next_certificate_number.called
    assert not service.store.add_certificate.called
    assert (reply["passed"], reply["certificate"]) == (False, None)
    assert [(e.type, e.data["passed"]) for e in emitted(service)] == [("training_completed", False)]


def test_a_pass_issues_a_numbered_certificate_announced_after_the_completion():
    service = recording()
    reply = service.record_result(ID, {"theory_score": 60, "practical_score": 90})
    assert reply["certificate"]["cert_no"] == "TR20266523010000007"
    assert reply["status"] == "completed" and reply["passed"] is True
    assert [e.type for e in emitted(service)] == ["training_completed", "certificate_issued"]


def test_a_county_clerks_prefecture_wide_competition_is_refused_and_not_stored():
    service = make_service()
    with pytest.raises(InvalidInput) as refused:
        service.create_competition({"year": 2026, "title": "大赛", "groups": ["services"]})
    assert list(refused.value.errors) == ["county_code"]
    assert not service.store.add_competition.called
