"""jobs' rules without servers: the pipeline, the reasons beside a score, the projection,
postings, fairs, applications and hires, and the bureau's postings sent again."""

import datetime as dt
from dataclasses import replace

import pytest

from services.jobs import bureau_domain, domain, fair_domain
from services.jobs.domain import Application, Employer, Posting
from services.jobs.matching import reasons, wanted_counties
from services.jobs.projection_domain import VeteranFacts, facts_of, project, seeks_work, union
from shared.errors import Conflict, InvalidInput
from shared.taxonomy import Taxonomy


@pytest.mark.parametrize(
    "current,target,allowed",
    [
        ("submitted", "interviewing", True),
        ("submitted", "offered", True),
        ("interviewing", "offered", True),
        ("offered", "hired", True),
        ("submitted", "hired", False),
        ("interviewing", "hired", False),
        ("hired", "withdrawn", False),
        ("rejected", "interviewing", False),
        ("withdrawn", "offered", False),
        ("offered", "submitted", False),
    ],
)
def test_the_pipeline_allows_only_its_moves(current, target, allowed):
    assert domain.may_move(current, target) is allowed


def test_an_illegal_move_says_what_is_possible():
    assert domain.illegal_move("submitted", "hired") == (
        "an application that is submitted cannot become hired; it can become interviewing, "
        "offered, rejected, withdrawn"
    )
    assert domain.illegal_move("hired", "rejected").endswith("it is final")


NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)


def veteran(**facts):
    return VeteranFacts(
        **{
            "veteran_id": "v",
            "county_code": "652301",
            "skills": ["driver_b2"],
            "certificates": [],
            "occupations": ["driver"],
            "counties": [],
            "min_salary": 4000,
            "willingness": "job",
            "employment_status": "unemployed",
            **facts,
        }
    )


def posting(**fields):
    return Posting(
        **{
            "id": "p",
            "employer_id": "e",
            "title": "驾驶员",
            "salary_min": 3000,
            "openings": 3,
            "closes_on": dt.date(2026, 12, 31),
            "created_at": NOW,
            "updated_at": NOW,
            "skills_required": ["driver_b2", "logistics"],
            "certificates_preferred": ["B2证"],
            "occupation": "driver",
            "county_code": "652301",
            "salary_max": 3500,
            "dedicated": True,
            **fields,
        }
    )


def test_reasons_name_matched_and_missing_skills_county_and_salary():
    why = reasons(veteran(certificates=["B2证"]), posting())
    assert why == {
        "matched_skills": ["driver_b2"],
        "missing_skills": ["logistics"],
        "certificates": ["B2证"],
        "occupation_wanted": True,
        "county": {"posting": "652301", "wanted": True},
        "salary": {"max": 3500, "floor": 4000, "meets_floor": False},
        "dedicated": True,
    }


def test_a_veteran_who_names_no_county_wants_their_own():
    assert wanted_counties(veteran()) == ["652301"]
    assert wanted_counties(veteran(counties=["652302", "652323"])) == ["652302", "652323"]
    assert reasons(veteran(counties=["652302"]), posting())["county"]["wanted"] is False
    assert reasons(veteran(min_salary=None), posting())["salary"]["meets_floor"] is True


def test_the_projection_takes_facts_and_no_identifiers():
    data = {
        "veteran_id": "v1",
        "county_code": "652301",
        "skills": ["cook"],
        "certificates": [],
        "intentions": {"occupations": ["cook"], "counties": ["652302"], "min_salary": 3000},
        "willingness": "job",
        "employment_status": "unemployed",
        "gender": "male",
        "birth_year": 1990,
    }
    assert facts_of(data) == VeteranFacts(
        veteran_id="v1",
        county_code="652301",
        skills=["cook"],
        certificates=[],
        occupations=["cook"],
        counties=["652302"],
        min_salary=3000,
        willingness="job",
        employment_status="unemployed",
    )
    assert facts_of({**data, "intentions": None}).occupations == []


def test_union_keeps_order_and_adds_only_new_items():
    assert union(["a", "b"], ["b", "c", "a", "d"]) == ["a", "b", "c", "d"]


def test_a_posting_past_its_date_is_presented_closed():
    row = posting(
        openings=3,
        hired=1,
        status="open",
        closed_reason=None,
        closes_on=dt.date(2026, 11, 27),
        created_by="op",
    )
    shown = domain.present_posting(row, dt.date(2026, 11, 28))
    assert shown["status"] == "closed" and shown["closed_reason"] == "expired"
    assert shown["remaining"] == 2 and "created_by" not in shown
    assert domain.present_posting(row, dt.date(2026, 11, 27))["status"] == "open"


def test_an_employer_is_presented_with_its_contact_phone_masked():
    row = Employer(
        id="e-1",
        name="昌吉市顺达物流有限公司",
        uscc=None,
        county_code="652301",
        industry="logistics",
        created_at=NOW,
        contact_name="司马光明",
        contact_phone="13655554444",
        created_by="op-1",
    )
    reply = domain.present_employer(row)
    assert reply["contact_phone"] == "136****4444"
    assert "created_by" not in reply and row.contact_phone == "13655554444"
    assert domain.present_employer(replace(row, contact_phone=None))["contact_phone"] is None


# -- the projection's rules -----------------------------------------------------------------
class Received:
    def __init__(self, type, **data):
        self.type, self.data = type, data


def registered(veteran_id="v1", **facts):
    return Received(
        "veteran_registered",
        **{
            "veteran_id": veteran_id,
            "county_code": "652301",
            "skills": ["cook"],
            "certificates": [],
            "intentions": {"occupations": ["cook"]},
            "willingness": "job",
            "employment_status": "unemployed",
            **facts,
        },
    )


def test_a_certificate_adds_its_name_and_skills_once_and_refreshes_the_list():
    known = {"v1": facts_of(registered().data)}
    got = project(
        known,
        [
            Received(
                "certificate_issued",
                veteran_id="v1",
                certificate_name="焊工证",
                skills_granted=["welder", "cook"],
            )
        ],
    )
    assert got.changed["v1"].certificates == ["焊工证"]
    assert got.changed["v1"].skills == ["cook", "welder"]
    assert got.refresh == {"v1"} and got.unknown == []
    assert known["v1"].skills == ["cook"]  # the facts known are not changed in place


def test_a_status_change_to_work_is_kept_but_refreshes_nothing():
    known = {"v1": facts_of(registered().data)}
    got = project(
        known,
        [
            Received(
                "employment_status_changed",
                veteran_id="v1",
                previous="unemployed",
                current="employed",
            )
        ],
    )
    assert got.changed["v1"].employment_status == "employed" and got.refresh == set()
    back = project(
        got.changed,
        [
            Received(
                "employment_status_changed",
                veteran_id="v1",
                previous="employed",
                current="unemployed",
            )
        ],
    )
    assert back.changed["v1"].employment_status == "unemployed" and back.refresh == {"v1"}


def test_news_of_a_veteran_never_registered_is_set_aside_as_unknown():
    got = project(
        {},
        [
            Received(
                "certificate_issued", veteran_id="v9", certificate_name="x", skills_granted=[]
            ),
            Received("employment_status_changed", veteran_id="v9", current="employed"),
        ],
    )
    assert got.changed == {} and got.refresh == set()
    assert got.unknown == [("v9", "certificate_issued"), ("v9", "employment_status_changed")]


def test_events_of_one_batch_apply_in_order_each_to_the_facts_so_far():
    got = project(
        {},
        [
            registered(skills=["cook"]),
            Received(
                "certificate_issued",
                veteran_id="v1",
                certificate_name="c",
                skills_granted=["welder"],
            ),
            Received(
                "veteran_updated",
                veteran_id="v1",
                snapshot={**registered().data, "skills": ["driver_b2"]},
            ),
        ],
    )
    assert got.changed["v1"].skills == ["driver_b2"]  # the update's snapshot replaces all
    assert got.refresh == {"v1"}


@pytest.mark.parametrize(
    "willingness,status,seeks",
    [
        ("job", "unemployed", True),
        ("job", "in_training", True),
        ("job", "flexible", True),
        ("job", "employed", False),
        ("business", "unemployed", False),
    ],
)
def test_only_veterans_who_want_a_job_and_are_not_working_are_offered_postings(
    willingness, status, seeks
):
    assert seeks_work(veteran(willingness=willingness, employment_status=status)) is seeks


# -- postings -------------------------------------------------------------------------------
TODAY = dt.date(2026, 11, 28)
COMMAND = {
    "title": "驾驶员",
    "occupation": "driver",
    "skills_required": ["driver_b2"],
    "certificates_preferred": [],
    "county_code": "652301",
    "salary_min": 3000,
    "salary_max": 5000,
    "openings": 2,
    "closes_on": TODAY,
    "dedicated": False,
    "description": None,
}


def employer():
    return Employer(
        id="e-1", name="顺达", uscc=None, county_code="652301", industry="logistics", created_at=NOW
    )


def test_a_posting_may_close_today_but_not_yesterday():
    posting, events = domain.post(COMMAND, employer(), "local", "p-1", NOW, TODAY, "op")
    assert posting.status == "open" and posting.hired == 0 and posting.employer_id == "e-1"
    assert [e.type for e in events] == ["job_posted"]
    assert events[0].data == {
        "posting_id": "p-1",
        "employer_id": "e-1",
        "county_code": "652301",
        "occupation": "driver",
        "skills_required": ["driver_b2"],
        "openings": 2,
        "dedicated": False,
        "source": "local",
    }
    with pytest.raises(InvalidInput) as caught:
        domain.post(
            {**COMMAND, "closes_on": TODAY - dt.timedelta(days=1)},
            employer(),
            "local",
            "p-2",
            NOW,
            TODAY,
            "op",
        )
    assert caught.value.errors == {"closes_on": ["is in the past"]}


def test_closing_a_closed_posting_is_a_conflict_naming_why_it_closed():
    assert domain.close(posting(), "withdrawn")[0].data == {
        "posting_id": "p",
        "reason": "withdrawn",
    }
    with pytest.raises(Conflict, match=r"closed already \(filled\)"):
        domain.close(posting(status="closed", closed_reason="filled"), "withdrawn")


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"status": "closed", "closed_reason": "withdrawn"}, "the posting is closed (withdrawn)"),
        ({"closes_on": TODAY - dt.timedelta(days=1)}, "the posting is closed (expired)"),
        ({"openings": 2, "hired": 2}, "the posting has no opening left"),
    ],
)
def test_a_posting_closed_past_its_date_or_full_takes_no_application(fields, message):
    with pytest.raises(Conflict) as caught:
        domain.require_open(posting(**fields), TODAY)
    assert caught.value.message == message and caught.value.details == {"posting_id": "p"}


def test_a_posting_open_today_with_an_opening_takes_applications():
    domain.require_open(posting(closes_on=TODAY, openings=2, hired=1), TODAY)


def test_only_the_last_opening_taken_closes_the_posting_as_filled():
    assert domain.filled(posting(), 1, 3) == []
    assert [(e.type, e.data["reason"]) for e in domain.filled(posting(), 3, 3)] == [
        ("job_closed", "filled")
    ]


# -- fairs ----------------------------------------------------------------------------------
FAIR = {
    "title": "春风行动",
    "county_code": "652301",
    "starts_at": NOW,
    "mode": "offline",
    "stream_url": None,
    "venue": "昌吉市人才市场",
    "employer_ids": [],
    "posting_ids": [],
}


def test_a_fair_names_every_unknown_employer_and_posting_by_its_place():
    with pytest.raises(InvalidInput) as caught:
        fair_domain.schedule_fair(
            {**FAIR, "employer_ids": ["e1", "e2"], "posting_ids": ["p1", "p2"]},
            "f",
            NOW,
            "op",
            known_employers={"e1"},
            known_postings={"p2"},
        )
    assert caught.value.errors == {
        "employer_ids.1": ["no employer with this id"],
        "posting_ids.0": ["no posting with this id"],
    }


def test_a_fair_lists_each_employer_and_posting_once_in_the_order_given():
    fair = fair_domain.schedule_fair(
        {**FAIR, "employer_ids": ["e2", "e1", "e2"], "posting_ids": ["p1", "p1"]},
        "f",
        NOW,
        "op",
        known_employers={"e1", "e2"},
        known_postings={"p1"},
    )
    assert fair.employer_ids == ["e2", "e1"] and fair.posting_ids == ["p1"]
    assert fair.created_by == "op" and "created_by" not in fair_domain.present_fair(fair, {})


# -- applications and hires -----------------------------------------------------------------
def application(**fields):
    return Application(
        **{
            "id": "a",
            "veteran_id": "v",
            "posting_id": "p",
            "county_code": "652301",
            "channel": "referral",
            "status": "offered",
            "submitted_at": NOW,
            "updated_at": NOW,
            **fields,
        }
    )


def fair(**fields):
    return fair_domain.Fair(**{**FAIR, "id": "f", "created_at": NOW, **fields})


def test_an_application_through_a_fair_must_be_to_one_of_its_postings():
    with pytest.raises(InvalidInput) as caught:
        domain.submit(veteran(), posting(), fair(posting_ids=["other"]), "fair", "a", NOW, "op")
    assert caught.value.errors == {"posting_id": ["is not one of the fair's postings"]}
    made, entry, events = domain.submit(veteran(), posting(), fair(), "fair", "a", NOW, "op")
    assert made.fair_id == "f" and made.status == "submitted"
    assert (entry.from_status, entry.to_status) == (None, "submitted")
    assert events[0].data == {
        "application_id": "a",
        "veteran_id": "v",
        "posting_id": "p",
        "channel": "fair",
    }


def test_a_move_is_kept_as_history_and_an_illegal_one_is_a_conflict():
    moved, entry = domain.move(application(status="submitted"), "interviewing", "ok", NOW, "op")
    assert moved.status == "interviewing"
    assert (entry.from_status, entry.to_status, entry.note) == ("submitted", "interviewing", "ok")
    with pytest.raises(Conflict, match="it is final"):
        domain.move(application(status="rejected"), "offered", None, NOW, "op")


@pytest.mark.parametrize(
    "days,allowed", [(0, True), (366, True), (-366, True), (367, False), (-367, False)]
)
def test_a_hire_starts_within_a_year_of_today_either_way(days, allowed):
    started_on = TODAY + dt.timedelta(days=days)
    if allowed:
        domain.check_start(started_on, TODAY)
    else:
        with pytest.raises(InvalidInput) as caught:
            domain.check_start(started_on, TODAY)
        assert list(caught.value.errors) == ["started_on"]


def test_only_an_offered_application_is_hired_on_the_terms_given():
    hire = domain.hire(
        application(),
        posting(dedicated=True),
        {"started_on": TODAY, "salary": 4800, "note": None},
        NOW,
        "op",
    )
    assert (hire.employer_id, hire.dedicated, hire.salary, hire.channel) == (
        "e",
        True,
        4800,
        "referral",
    )
    with pytest.raises(Conflict, match="cannot become hired"):
        domain.hire(
            application(status="interviewing"),
            posting(),
            {"started_on": TODAY, "salary": 4800},
            NOW,
            "op",
        )


def test_recommendations_show_only_postings_still_open():
    shown = domain.open_recommendations(
        [
            (posting(id="p1"), 90),
            (posting(id="p2", status="closed"), 80),
            (posting(id="p3", closes_on=TODAY - dt.timedelta(1)), 70),
        ],
        TODAY,
    )
    assert [(r["posting"]["id"], r["score"]) for r in shown] == [("p1", 90)]


# -- the bureau's postings sent again -------------------------------------------------------
def stored(**fields):
    return posting(
        **{
            "title": "驾驶员",
            "skills_required": ["a", "b"],
            "certificates_preferred": [],
            "salary_min": 3000,
            "salary_max": 5000,
            "openings": 3,
            "hired": 1,
            "closes_on": TODAY,
            "dedicated": False,
            "description": None,
            "bureau_version": 5,
            **fields,
        }
    )


def sent(**fields):
    item = {key: getattr(stored(), key) for key in bureau_domain.BUREAU_UPDATABLE}
    return {**item, **fields}


def revise(command, version, uscc="U1", existing=None):
    return bureau_domain.revise(existing or stored(), "U1", command, uscc, version, TODAY)


def test_an_older_version_or_the_same_one_changed_is_stale():
    with pytest.raises(bureau_domain.Stale, match="4 is older than 5, the version stored"):
        revise(sent(), 4)
    with pytest.raises(bureau_domain.Stale, match="needs a greater version"):
        revise(sent(title="仓库"), 5)


def test_equal_fields_are_unchanged_and_a_greater_version_is_recorded():
    assert revise(sent(skills_required=["b", "a"]), 5) == bureau_domain.Revision(
        "unchanged", None, {}, False, []
    )  # lists compared as sets
    assert revise(sent(), 6).version == 6 and revise(sent(), 6).status == "unchanged"
    assert revise(sent(), 1, existing=stored(bureau_version=None)).version == 1


def test_a_greater_version_that_differs_updates_what_changed():
    revision = revise(sent(title="仓库管理员", openings=4), 6)
    assert revision.status == "updated" and revision.version == 6
    assert revision.changes == {"title": "仓库管理员", "openings": 4}
    assert not revision.closes and revision.events == []


def test_openings_down_to_the_hires_made_close_an_open_posting_as_filled():
    revision = revise(sent(openings=1), 6)
    assert revision.closes and [e.data for e in revision.events] == [
        {"posting_id": "p", "reason": "filled"}
    ]
    closed = revise(sent(openings=1), 6, existing=stored(status="closed"))
    assert not closed.closes and closed.events == []  # a closed posting stays closed


def test_an_update_below_the_hires_in_the_past_or_with_another_employer_is_invalid():
    with pytest.raises(InvalidInput) as caught:
        revise(sent(openings=0, closes_on=TODAY - dt.timedelta(days=1)), 6)
    assert caught.value.errors == {
        "openings": ["is below the 1 already hired"],
        "closes_on": ["is in the past"],
    }
    with pytest.raises(InvalidInput) as caught:
        revise(sent(), 6, uscc="U2")
    assert list(caught.value.errors) == ["employer.uscc"]


def test_the_fair_modes_are_the_taxonomys_codes_with_chinese_labels():
    taxonomy = Taxonomy.load()
    assert taxonomy.codes("fair_mode") == set(fair_domain.FAIR_MODES)
    assert taxonomy.label("fair_mode", "online_live") == "线上直播"
    assert taxonomy.label("fair_mode", "offline") == "线下面试"


def test_the_summarys_placements_name_occupations_the_taxonomy_knows():
    occupations = Taxonomy.load().codes("occupations")
    assert set(domain.PLACEMENT_OCCUPATIONS.values()) == {"auxiliary_police", "village_cadre"}
    assert set(domain.PLACEMENT_OCCUPATIONS.values()) <= occupations
