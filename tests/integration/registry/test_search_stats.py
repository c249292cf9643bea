"""search_veterans and stats on the real broker and database: every filter narrows, paging
is stable and complete, a county clerk never sees another county, and the indicators are
right on a known ledger."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.registry.service import RegistryService
from shared.clock import Clock, FrozenClock
from shared.errors import Forbidden, InvalidInput
from tests.conftest import token
from tests.factories import make_veteran, unique_id_numbers

CLERK_652301 = token("county", ["652301"], operator="clerk-changji")
CLERK_TWO = token("county", ["652301", "652302"], operator="clerk-two")
VIEWER = token("viewer", ["*"], operator="viewer")

# name: (county, status, willingness, needs, skills, discharged_on)
LEDGER = {
    "张伟": ("652301", "unemployed", "job", ["job_referral"], ["driver_b2"], "2016-12-01"),
    "张伟民": ("652301", "employed", "job", [], ["driver_b2", "security_guard"], "2018-06-01"),
    "陈军": ("652301", "unemployed", "training", ["skills_training"], [], "2014-04-01"),
    "李强": ("652302", "self_employed", "business", ["startup_loan"], ["ecommerce"], "2012-03-01"),
    "王芳": ("652302", "flexible", "none", ["policy_consultation"], [], "2020-09-01"),
    "刘洋": ("652302", "employed", "none", [], ["cook"], "2013-10-01"),
    "赵_明": (
        "652323",
        "public_welfare_post",
        "training",
        ["skills_training"],
        ["security_guard"],
        "2010-05-01",
    ),
    "赵x明": (
        "652323",
        "in_training",
        "training",
        ["skills_training", "job_referral"],
        [],
        "2021-01-01",
    ),
    "Aygul 阿依古丽": (
        "652324",
        "unemployed",
        "business",
        ["startup_loan", "startup_guidance"],
        ["cook"],
        "2019-07-01",
    ),
    "马%": ("652324", "not_seeking", "none", [], [], "2008-11-01"),
}


@pytest.fixture
def registry(start):
    return start(RegistryService)


@pytest.fixture
def ledger(registry, rpc):
    """The ten cards of LEDGER, registered through the RPC; name → id."""
    ids = {}
    numbers = unique_id_numbers(len(LEDGER))
    for (name, (county, status, willingness, needs, skills, discharged)), number in zip(
        LEDGER.items(), numbers, strict=True
    ):
        card = rpc.registry.register_veteran(
            make_veteran(
                id_number=number,
                name=name,
                county_code=county,
                employment_status=status,
                willingness=willingness,
                service_needs=needs,
                skills=skills,
                discharged_on=discharged,
                phone=None,
                employer="昌吉市顺达物流有限公司" if status == "employed" else None,
            )
        )
        ids[name] = card["id"]
    return ids


def names(reply):
    return {card["name"] for card in reply["items"]}


def search(proxy, filters, page=1, page_size=200):
    return proxy.registry.search_veterans(filters, page, page_size)


@pytest.mark.parametrize(
    "filters,expected",
    [
        ({}, set(LEDGER)),
        ({"county_code": "652302"}, {"李强", "王芳", "刘洋"}),
        ({"county_code": ["652323", "652324"]}, {"赵_明", "赵x明", "Aygul 阿依古丽", "马%"}),
        ({"employment_status": "unemployed"}, {"张伟", "陈军", "Aygul 阿依古丽"}),
        ({"employment_status": ["employed", "flexible"]}, {"张伟民", "王芳", "刘洋"}),
        ({"willingness": "business"}, {"李强", "Aygul 阿依古丽"}),
        ({"willingness": ["job", "business"]}, {"张伟", "张伟民", "李强", "Aygul 阿依古丽"}),
        ({"service_need": "skills_training"}, {"陈军", "赵_明", "赵x明"}),
        ({"service_need": ["skills_training", "job_referral"]}, {"赵x明"}),
        ({"skill": "driver_b2"}, {"张伟", "张伟民"}),
        ({"skill": "cook"}, {"刘洋", "Aygul 阿依古丽"}),
        ({"discharged_from_year": 2019}, {"王芳", "赵x明", "Aygul 阿依古丽"}),
        ({"discharged_to_year": 2010}, {"赵_明", "马%"}),
        (
            {"discharged_from_year": 2012, "discharged_to_year": 2016},
            {"李强", "刘洋", "陈军", "张伟"},
        ),
        ({"discharged_from_year": 2016, "discharged_to_year": 2016}, {"张伟"}),
        ({"name": "张伟"}, {"张伟", "张伟民"}),
        ({"name": "伟民"}, {"张伟民"}),
        ({"name": "赵"}, {"赵_明", "赵x明"}),
        ({"name": "_"}, {"赵_明"}),
        ({"name": "%"}, {"马%"}),
        ({"name": "aygul"}, {"Aygul 阿依古丽"}),
        ({"name": "阿依古丽"}, {"Aygul 阿依古丽"}),
        ({"name": " 李强 "}, {"李强"}),
        ({"name": "司马"}, set()),
    ],
    ids=lambda value: None if isinstance(value, set) else str(value),
)
def test_each_filter_narrows_to_exactly_the_matching_cards(ledger, rpc, filters, expected):
    reply = search(rpc, filters)
    assert names(reply) == expected
    assert reply["total"] == len(expected)


@pytest.mark.parametrize(
    "filters,expected",
    [
        (
            {"county_code": "652301", "employment_status": "unemployed", "willingness": "job"},
            {"张伟"},
        ),
        ({"skill": "security_guard", "discharged_to_year": 2015}, {"赵_明"}),
        ({"name": "赵", "service_need": "job_referral"}, {"赵x明"}),
        (
            {"county_code": ["652302", "652324"], "skill": "cook", "employment_status": "employed"},
            {"刘洋"},
        ),
        ({"county_code": "652301", "willingness": "business"}, set()),
    ],
)
def test_filters_combine_as_and(ledger, rpc, filters, expected):
    reply = search(rpc, filters)
    assert names(reply) == expected and reply["total"] == len(expected)


def test_cards_in_results_are_presented_with_id_number_and_phone_masked_and_no_address(
    ledger, rpc, db
):
    rpc.registry.update_veteran(ledger["李强"], {"phone": "13911112222", "address": "昌吉市 1 号"})
    card = search(rpc, {"name": "李强"})["items"][0]
    with db.cursor() as cur:
        cur.execute("SELECT id_number, phone FROM registry.veterans WHERE id = %s", (card["id"],))
        number, phone = cur.fetchone()
    assert card["id_number"] == number[:6] + "*" * 11 + number[-1]
    assert phone == "13911112222" and card["phone"] == "139****2222"
    assert "address" not in card
    assert card["id"] == ledger["李强"] and card["skills"] == ["ecommerce"]
    assert card["county_code"] == "652302" and card["discharged_on"] == "2012-03-01"


def insert_veterans(db, count, county="652301", ties=5, prefix="老兵"):
    """``count`` minimal cards straight into the table; every ``ties`` of them share one
    registration instant, so only the id can order them."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        (
            str(uuid.uuid4()),
            number,
            f"{prefix}{i}",
            "male",
            "1990-01-01",
            county,
            "2015-01-01",
            "self_employment",
            "job",
            "unemployed",
            start + timedelta(minutes=i // ties),
        )
        for i, number in enumerate(unique_id_numbers(count, county=county))
    ]
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO registry.veterans (id, id_number, name, gender, birth_date, county_code,"
            " discharged_on, discharge_type, willingness, employment_status, registered_at,"
            " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [row + (row[-1],) for row in rows],
        )
    return sorted((row[-1], row[0]) for row in rows)


def page_through(proxy, filters, page_size):
    seen, page = [], 1
    while True:
        reply = search(proxy, filters, page=page, page_size=page_size)
        assert (reply["page"], reply["page_size"]) == (page, page_size)
        if not reply["items"]:
            return seen, page, reply["total"]
        seen += [card["id"] for card in reply["items"]]
        page += 1


# Through an index that orders rows itself, and through a plan that sorts them.
@pytest.mark.parametrize("filters", [{"county_code": "652301"}, {"name": "老兵"}])
def test_pages_are_stable_complete_and_never_overlap(registry, rpc, db, filters):
    expected = insert_veterans(db, 25)
    insert_veterans(db, 4, county="652302", prefix="新兵")
    seen, pages, total = page_through(rpc, filters, 7)
    assert total == 25 and pages == 5  # 7 + 7 + 7 + 4, then an empty page
    assert len(seen) == len(set(seen)) == 25
    assert seen == [veteran_id for _, veteran_id in expected]  # (registered_at, id) order
    again = search(rpc, filters, page=2, page_size=7)
    assert [card["id"] for card in again["items"]] == seen[7:14]


def test_a_page_past_the_end_is_empty_but_still_counts(registry, rpc, db):
    insert_veterans(db, 3)
    reply = search(rpc, {}, page=9, page_size=50)
    assert reply == {"items": [], "total": 3, "page": 9, "page_size": 50}


def test_the_default_page_is_the_first_fifty(registry, rpc, db):
    insert_veterans(db, 60)
    reply = rpc.registry.search_veterans({})
    assert (reply["total"], len(reply["items"])) == (60, 50)
    assert (reply["page"], reply["page_size"]) == (1, 50)
    assert rpc.registry.search_veterans()["total"] == 60


def test_a_county_clerk_only_ever_sees_their_county(ledger, rpc_as):
    with rpc_as(CLERK_652301) as clerk:
        assert names(search(clerk, {})) == {"张伟", "张伟民", "陈军"}
        assert names(search(clerk, {"employment_status": "employed"})) == {"张伟民"}
        assert names(search(clerk, {"skill": "cook"})) == set()
        assert search(clerk, {"name": "赵"})["total"] == 0
        assert names(search(clerk, {"county_code": "652301"})) == {"张伟", "张伟民", "陈军"}


@pytest.mark.parametrize("county", ["652302", ["652301", "652302"]])
def test_a_county_clerk_naming_another_county_is_forbidden(ledger, rpc_as, county):
    with rpc_as(CLERK_652301) as clerk:
        with pytest.raises(Forbidden):
            search(clerk, {"county_code": county})


def test_a_clerk_of_two_counties_sees_both_and_may_narrow_to_one(ledger, rpc_as):
    with rpc_as(CLERK_TWO) as clerk:
        assert search(clerk, {})["total"] == 6
        assert names(search(clerk, {"county_code": "652302"})) == {"李强", "王芳", "刘洋"}


@pytest.mark.parametrize(
    "filters,page,page_size,field",
    [
        ({"colour": "red"}, 1, 50, "colour"),
        ({"county_code": "110101"}, 1, 50, "county_code"),
        ({"employment_status": "retired"}, 1, 50, "employment_status"),
        ({"willingness": "maybe"}, 1, 50, "willingness"),
        ({"service_need": "money"}, 1, 50, "service_need"),
        ({"skill": "juggling"}, 1, 50, "skill"),
        ({"discharged_from_year": 2020, "discharged_to_year": 2010}, 1, 50, "discharged_from_year"),
        ({"discharged_to_year": "recent"}, 1, 50, "discharged_to_year"),
        ({"name": ""}, 1, 50, "name"),
        ({"name": "张" * 51}, 1, 50, "name"),
        ("everyone", 1, 50, "filters"),
        ({}, 0, 50, "page"),
        ({}, 1, 201, "page_size"),
    ],
)
def test_bad_filters_are_invalid_input_naming_the_field(
    registry, rpc, filters, page, page_size, field
):
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.search_veterans(filters, page, page_size)
    assert field in caught.value.errors and field in caught.value.message


def test_a_viewer_may_call_stats_but_not_search(ledger, rpc_as):
    with rpc_as(VIEWER) as viewer:
        assert viewer.registry.stats()["veterans"] == 10
        with pytest.raises(Forbidden):
            viewer.registry.search_veterans({})


def add_enterprises(db, *rows):
    with db.cursor() as cur:
        for kind, stage, county in rows:
            cur.execute(
                "INSERT INTO registry.enterprises (id, kind, name, county_code, industry,"
                " founded_on, stage, registered_at, updated_at)"
                " VALUES (%s, %s, %s, %s, 'ecommerce', '2025-05-01', %s, now(), now())",
                (str(uuid.uuid4()), kind, f"{kind}-{stage}-{county}", county, stage),
            )


def test_stats_count_the_ledger_and_compute_the_rate(ledger, rpc, db):
    add_enterprises(
        db,
        ("enterprise", "startup", "652301"),
        ("enterprise", "operating", "652302"),
        ("individual_business", "operating", "652302"),
        ("individual_business", "operating", "652324"),
        ("individual_business", "closed", "652301"),
        ("cooperative", "operating", "652301"),
    )
    stats = rpc.registry.stats()

    assert stats["county_code"] is None and len(stats["counties"]) == 7
    assert stats["veterans"] == 10
    assert stats["by_status"] == {
        "unemployed": 3,
        "employed": 2,
        "self_employed": 1,
        "flexible": 1,
        "public_welfare_post": 1,
        "in_training": 1,
        "further_education": 0,
        "back_to_school": 0,
        "admitted_by_exam": 0,
        "returned_farming": 0,
        "not_seeking": 1,
    }
    assert stats["by_willingness"] == {"job": 2, "business": 2, "training": 3, "none": 3}
    assert stats["by_need"] == {
        "job_referral": 2,
        "skills_training": 3,
        "startup_loan": 2,
        "startup_guidance": 1,
        "policy_consultation": 1,
        "legal_aid": 0,
        "psychological_support": 0,
    }
    assert stats["enterprises"] == {
        "enterprise": {"startup": 1, "operating": 1, "closed": 0},
        "individual_business": {"startup": 0, "operating": 2, "closed": 1},
        "cooperative": {"startup": 0, "operating": 1, "closed": 0},
    }
    # Working: 张伟民, 刘洋 (employed), 李强 (self-employed), 王芳 (flexible), 赵_明 (public
    # welfare post). Base: those five plus 张伟 (wants a job) and Aygul (wants a business).
    assert stats["employment_rate"] == {"working": 5, "base": 7, "rate": 0.7143}


def test_stats_for_one_county(ledger, rpc, db):
    add_enterprises(
        db, ("individual_business", "operating", "652302"), ("enterprise", "startup", "652301")
    )
    stats = rpc.registry.stats("652302")
    assert (stats["county_code"], stats["counties"], stats["veterans"]) == ("652302", ["652302"], 3)
    assert stats["employment_rate"] == {"working": 3, "base": 3, "rate": 1.0}
    assert stats["enterprises"]["individual_business"]["operating"] == 1
    assert stats["enterprises"]["enterprise"]["startup"] == 0
    assert stats["by_need"]["startup_loan"] == 1 and stats["by_need"]["job_referral"] == 0


def test_stats_of_an_empty_ledger_are_zero(registry, rpc):
    stats = rpc.registry.stats("652328")
    assert stats["veterans"] == 0 and stats["employment_rate"] == {
        "working": 0,
        "base": 0,
        "rate": 0,
    }
    assert set(stats["enterprises"]) == {"enterprise", "individual_business", "cooperative"}


def test_a_clerk_gets_stats_for_their_counties_and_is_forbidden_others(ledger, rpc_as):
    with rpc_as(CLERK_652301) as clerk:
        mine = clerk.registry.stats()
        assert (mine["counties"], mine["veterans"]) == (["652301"], 3)
        assert mine["employment_rate"] == {"working": 1, "base": 2, "rate": 0.5}
        assert clerk.registry.stats("652301")["veterans"] == 3
        with pytest.raises(Forbidden):
            clerk.registry.stats("652302")


def test_stats_for_a_county_outside_the_jurisdiction_is_invalid_input(registry, rpc):
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.stats("110101")
    assert "county_code" in caught.value.errors


# -- the employment rate month by month, from the cards' history ------------------------


def at(year, month, day, hour=10, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def row(registered, working, base, rate):
    return {"registered": registered, "working": working, "base": base, "employment_rate": rate}


def test_each_months_rate_is_the_cards_as_they_stood_at_the_bureaus_month_end(start, rpc, rpc_as):
    runner = start(RegistryService)
    [container] = runner.containers
    clock = FrozenClock(at(2026, 1, 10))
    for dependency in container.dependencies:
        if isinstance(dependency, Clock):
            dependency.clock = clock

    def register(county, status, willingness, when):
        clock.at = when
        return rpc.registry.register_veteran(
            make_veteran(
                county_code=county,
                employment_status=status,
                willingness=willingness,
                employer=None,
                phone=None,
            )
        )["id"]

    # B: registered in January, unemployed; works from 23:30 UTC on 31 March, which is
    # already 1 April in the bureau's zone: still not working at March's end.
    b = register("652301", "unemployed", "job", at(2026, 1, 10))
    # A: 23:30 UTC on 31 January is 1 February in Beijing: February's card, not January's.
    register("652302", "unemployed", "job", at(2026, 1, 31, 23, 30))
    # C: working from February; stops in June and wants nothing: leaves the base.
    c = register("652301", "flexible", "none", at(2026, 2, 15))
    clock.at = at(2026, 3, 31, 23, 30)
    rpc.registry.update_veteran(b, {"employment_status": "flexible"})
    clock.at = at(2026, 6, 10)
    rpc.registry.update_veteran(c, {"employment_status": "unemployed"})
    clock.at = at(2026, 11, 20)

    stats = rpc.registry.stats()
    months = stats["by_month"]
    assert list(months) == ["2025-12", *[f"2026-{m:02d}" for m in range(1, 12)]]
    rates = {month: row["employment_rate"] for month, row in months.items()}
    assert months["2025-12"] == row(0, 0, 0, None)
    assert months["2026-01"] == row(1, 0, 1, 0)
    assert months["2026-02"] == {
        "registered": 3,
        "working": 1,
        "base": 3,
        "employment_rate": 0.3333,
    }
    assert rates["2026-03"] == 0.3333  # B's change came in April, the bureau's time
    assert months["2026-04"] == {
        "registered": 3,
        "working": 2,
        "base": 3,
        "employment_rate": 0.6667,
    }
    assert months["2026-05"] == months["2026-04"]
    assert months["2026-06"] == row(3, 1, 2, 0.5)
    # Nothing changed since June: the last month is the headline rate.
    assert rates["2026-11"] == stats["employment_rate"]["rate"] == 0.5

    with rpc_as(CLERK_652301) as clerk:
        mine = clerk.registry.stats()["by_month"]
    assert mine["2026-02"] == row(2, 1, 2, 0.5)
    assert mine["2026-04"]["employment_rate"] == 1.0
    assert mine["2026-06"] == row(2, 1, 1, 1.0)


def test_cards_registered_before_the_twelve_months_count_in_every_one(start, rpc):
    runner = start(RegistryService)
    [container] = runner.containers
    clock = FrozenClock(at(2025, 3, 1))
    for dependency in container.dependencies:
        if isinstance(dependency, Clock):
            dependency.clock = clock
    for status in ("flexible", "unemployed"):
        card = rpc.registry.register_veteran(
            make_veteran(employment_status=status, willingness="job", employer=None, phone=None)
        )
    clock.at = at(2025, 12, 31, 16, 0)  # midnight starting 2026 in Beijing: January's change
    rpc.registry.update_veteran(card["id"], {"employment_status": "flexible"})
    clock.at = at(2026, 11, 20)

    months = rpc.registry.stats()["by_month"]
    assert months["2025-12"] == row(2, 1, 2, 0.5)
    assert all(months[m] == row(2, 2, 2, 1.0) for m in list(months)[1:])
