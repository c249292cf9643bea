"""Who may see and do what in followup, and what the lists and statistics show as the clock
moves."""

import uuid

import pytest

from shared.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from tests.conftest import token
from tests.helpers import scalar
from tests.integration.followup.conftest import hired


@pytest.fixture
def revisit_with_issue(followup, clock, deliver, tick, rpc):
    """A hire in 652301 whose 7-day revisit is done and raised one wage issue."""
    vid = str(uuid.uuid4())
    deliver(hired(vid, county="652301"))
    clock.move(days=7)
    tick()
    [work] = rpc.followup.worklist("652301")
    done = rpc.followup.complete_revisit(
        work["id"],
        {
            "contacted_on": "2026-11-09",
            "outcome": "employed_same",
            "veteran_satisfaction": 3,
            "problems": [{"category": "wages", "description": "工资拖欠"}],
        },
    )
    return vid, done


def test_a_clerk_of_another_county_is_forbidden_and_sees_nothing(
    followup, clock, deliver, revisit_with_issue, rpc, rpc_as, db
):
    vid, done = revisit_with_issue
    [pending] = [
        r
        for r in rpc.followup.list_revisits({"veteran_id": vid})["items"]
        if r["status"] == "scheduled"
    ][:1]
    issue_id = done["issues"][0]["id"]
    with rpc_as(token("county", ["652302"])) as clerk:
        # Another county's revisit or issue is answered as a missing one.
        with pytest.raises(NotFound) as caught:
            clerk.followup.complete_revisit(
                pending["id"], {"contacted_on": "2026-11-09", "outcome": "employed_same"}
            )
        assert str(caught.value) == f"no revisit {pending['id']}"
        with pytest.raises(NotFound) as caught:
            clerk.followup.resolve_issue(issue_id, {"resolution": "已处理"})
        assert str(caught.value) == f"no issue {issue_id}"
        with pytest.raises(Forbidden):
            clerk.followup.list_revisits({"county_code": "652301"})
        with pytest.raises(Forbidden):
            clerk.followup.retention("652301")
        assert clerk.followup.list_revisits()["total"] == 0  # scoped to 652302
        assert clerk.followup.worklist("652302") == []
    with rpc_as(token("county", ["652301"])) as own:
        assert own.followup.list_revisits()["total"] == 4
        assert (
            own.followup.resolve_issue(done["issues"][0]["id"], {"resolution": "已督促发放"})[
                "status"
            ]
            == "resolved"
        )
    with rpc_as(token("viewer")) as viewer:
        assert viewer.followup.stats()["revisits"]["done"] == 1
        with pytest.raises(Forbidden):
            viewer.followup.worklist("652301")
        with pytest.raises(Forbidden):
            viewer.followup.record_contact(
                {"county_code": "652301", "channel": "phone", "topic": "other"}
            )
    with rpc_as(None) as anonymous:
        with pytest.raises(Unauthorized):
            anonymous.followup.list_revisits()
    assert (
        scalar(db, "SELECT status FROM followup.revisits WHERE id = %s", pending["id"])
        == "scheduled"
    )
    assert scalar(db, "SELECT count(*) FROM followup.contacts") == 0


def test_stats_count_revisits_scheduled_due_overdue_and_done_as_time_moves(
    followup, clock, deliver, revisit_with_issue, tick, rpc
):
    stats = rpc.followup.stats("652301")
    assert stats["revisits"] == {"scheduled": 4, "done": 1, "due": 0, "overdue": 0}
    assert stats["average_satisfaction"] == 3.0
    assert stats["issues"]["wages"] == {"open": 1, "resolved": 0}
    clock.move(days=23)  # 2026-12-02: the 30-day revisit's day
    assert tick() == 1
    assert rpc.followup.stats("652301")["revisits"]["due"] == 1
    clock.move(days=8)  # past its grace
    tick()
    assert rpc.followup.stats("652301")["revisits"] == {
        "scheduled": 4,
        "done": 1,
        "due": 0,
        "overdue": 1,
    }
    [late] = rpc.followup.list_revisits({"status": "overdue"})["items"]
    assert late["due_on"] == "2026-12-02"
    assert rpc.followup.stats("652302")["revisits"]["scheduled"] == 0


def test_revisits_are_listed_by_filter_a_page_at_a_time(followup, clock, deliver, rpc):
    for _ in range(3):
        deliver(hired(str(uuid.uuid4()), county="652301"))
    first = rpc.followup.list_revisits({"county_code": "652301"}, page=1, page_size=5)
    second = rpc.followup.list_revisits({"county_code": "652301"}, page=3, page_size=5)
    assert first["total"] == 12 and len(first["items"]) == 5 and len(second["items"]) == 2
    assert [r["due_on"] for r in first["items"]] == sorted(r["due_on"] for r in first["items"])
    early = rpc.followup.list_revisits({"due_before": "2026-12-01"})
    assert early["total"] == 3 and {r["due_on"] for r in early["items"]} == {"2026-11-09"}
    for bad, field in (
        ({"status": "lost"}, "status"),
        ({"veteran_id": "x"}, "veteran_id"),
        ({"county_code": "110101"}, "county_code"),
        ({"due_before": "soon"}, "due_before"),
    ):
        with pytest.raises(InvalidInput) as caught:
            rpc.followup.list_revisits(bad)
        assert field in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        rpc.followup.list_revisits({}, page=0)
    assert "page" in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        rpc.followup.worklist("652301", "tomorrow")
    assert "as_of" in caught.value.errors
