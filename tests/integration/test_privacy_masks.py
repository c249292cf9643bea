"""What a county clerk can get cannot be undone (#17 item 1): from every reply of every RPC
that returns veteran or employer data, and from an export, no ID number is rebuilt (a
masked number with any birth date and gender shown still fits many numbers) and no phone
is seen in full outside the single card reads; those reads, the searches, the export and
the reveal are each in the audit log."""

import csv
import itertools
import re

import pytest

from services.jobs.service import JobsService
from services.registry.service import RegistryService
from tests.conftest import token
from tests.factories import id_number, make_veteran
from vetctl import records
from vetctl.client import connect

CLERK = token("county", ["652301"], operator="clerk-mask")  # 昌吉市 only
ADMIN = token("admin")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MASKED_ID = re.compile(r"^[0-9*]{17}[0-9Xx*]$")
PHONE = re.compile(r"1[3-9]\d{9}")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Candidates are listed only while at most this many positions are left open once the
# birth date is filled in: more means 10,000+ bodies, hundreds of valid numbers.
MAX_OPEN = 3


def check_character(body):
    """GB 11643-1999, computed here independently of the code under test."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def candidates(masked, birth_date, gender):
    """Every valid number that fits ``masked`` with ``birth_date`` (YYYY-MM-DD) in positions
    7-14 and ``gender`` in the parity of the 17th digit; None when too many to list."""
    chars = list(masked.upper())
    for position, digit in zip(range(6, 14), birth_date.replace("-", ""), strict=True):
        if chars[position] not in ("*", digit):
            return []
        chars[position] = digit
    unknown = [p for p in range(17) if chars[p] == "*"]
    if len(unknown) > MAX_OPEN:
        return None
    found = []
    for digits in itertools.product("0123456789", repeat=len(unknown)):
        for position, digit in zip(unknown, digits, strict=True):
            chars[position] = digit
        body = "".join(chars[:17])
        if (int(body[16]) % 2 == 1) != (gender == "male"):
            continue
        check = check_character(body)
        if chars[17] in ("*", check):
            found.append(body + check)
    return found


def strings(value):
    """Every string in a reply: keys and values, nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)


@pytest.fixture
def services(start):
    return start(RegistryService, JobsService)


def test_no_reply_or_export_rebuilds_an_id_number_or_shows_a_phone_and_reads_are_audited(
    services, rpc_as, config, tmp_path
):
    people = [
        make_veteran(
            id_number=id_number(birth="19850612", male=True),
            name="欧阳娜娜",
            phone="13911110001",
            address="昌吉市延安北路 1 号",
        ),
        make_veteran(
            id_number=id_number(birth="19850612", male=False),
            name="李娟",
            phone="13911110002",
            address="昌吉市延安北路 2 号",
        ),
        make_veteran(
            id_number=id_number(birth="19920229", male=True),
            name="王磊",
            phone="13911110003",
            address="昌吉市延安北路 3 号",
        ),
    ]
    in_bulk = [
        make_veteran(
            id_number=id_number(birth="19790101", male=False),
            name="赵敏",
            phone="13911110001",
            address="昌吉市延安北路 4 号",
        ),  # a duplicate by phone
        make_veteran(
            id_number=id_number(birth="19880808", male=True),
            name="孙强",
            phone="13911110005",
            address="昌吉市延安北路 5 号",
        ),
    ]
    new_phone, contact_phone = "13911110009", "13655554444"
    lists, cards = [], []  # (what, reply): lists must not show a phone; cards may
    with rpc_as(CLERK) as clerk:
        registered = [clerk.registry.register_veteran(p) for p in people]
        lists += [("register_veteran", r) for r in registered]
        bulk = clerk.registry.register_veterans(in_bulk + [people[0]])  # and a conflict
        lists.append(("register_veterans", bulk))
        assert [r["status"] for r in bulk["results"]] == ["created", "created", "conflict"]
        assert "possible_duplicate" in bulk["results"][0]["flags"]
        ids = [r["id"] for r in registered] + [r["id"] for r in bulk["results"][:2]]
        lists.append(
            (
                "update_veteran",
                clerk.registry.update_veteran(
                    ids[2], {"phone": new_phone, "address": "昌吉市北京南路 9 号"}
                ),
            )
        )
        for vid, person in zip(ids, people + in_bulk, strict=True):
            cards.append(("get_veteran", clerk.registry.get_veteran(vid)))
            cards.append(("get_card", clerk.registry.get_card(vid)))
            cards.append(
                (
                    "find_veteran_by_id_number",
                    clerk.registry.find_veteran_by_id_number(person["id_number"]),
                )
            )
        lists.append(("search_veterans", clerk.registry.search_veterans({}, 1, 200)))
        lists.append(
            (
                "search_veterans",
                clerk.registry.search_veterans(
                    {"name": "欧阳", "employment_status": "unemployed"}, 1, 50
                ),
            )
        )
        employer = clerk.jobs.register_employer(
            {
                "name": "昌吉市顺达物流有限公司",
                "uscc": "91652301MA78K2Q5X3",
                "county_code": "652301",
                "industry": "logistics",
                "contact_name": "司马光明",
                "contact_phone": contact_phone,
            }
        )
        lists.append(("register_employer", employer))
        lists.append(("get_employer", clerk.jobs.get_employer(employer["id"])))
        revealed = clerk.registry.reveal_id_number(ids[0], "signing the loan contract")
    assert revealed["id_number"] == people[0]["id_number"]  # the one way to the full number

    out = tmp_path / "昌吉市.csv"
    with connect(uri=config["AMQP_URI"], token=CLERK) as client:  # what `vetctl export` runs
        exported = records.export_veterans(client, out, "csv", county_code="652301")
    assert exported == 5
    with open(out, encoding="utf-8-sig") as handle:
        lists.append(("export", list(csv.reader(handle))))

    everything = [text for _, reply in lists + cards for text in strings(reply)]
    masks = {t for t in everything if MASKED_ID.match(t) and "*" in t}
    dates = {t for t in everything if DATE.match(t)}
    assert masks and len(dates) > 5  # what a clerk has to combine: it is there
    for person in people + in_bulk:
        number = person["id_number"]
        assert not any(number in t for t in everything), "a full ID number in a reply"
        fits = [
            found
            for masked, born, gender in itertools.product(masks, dates, ("male", "female"))
            if (found := candidates(masked, born, gender)) is not None and number in found
        ]
        assert fits, "the test never put the mask and the birth date together"
        assert all(len(found) > 1 for found in fits), (
            f"{number} rebuilt from {min(fits, key=len)}: one candidate"
        )

    phones = {p["phone"] for p in people + in_bulk} | {new_phone, contact_phone}
    addresses = {p["address"] for p in people + in_bulk}
    for what, reply in lists:
        texts = list(strings(reply))
        shown = {found for t in texts for found in PHONE.findall(t)}
        assert not shown & phones, f"{what} shows a phone in full"
        assert not any(a in t for t in texts for a in addresses), f"{what} shows an address"
    assert employer["contact_phone"] == "136****4444"
    shown_on_cards = {
        found for _, reply in cards for t in strings(reply) for found in PHONE.findall(t)
    }
    assert phones - {contact_phone, people[2]["phone"]} <= shown_on_cards  # reads show them

    with rpc_as(ADMIN) as admin:
        trail = admin.registry.audit({"operator_id": "clerk-mask", "page_size": 500})["items"]
    reads = sorted(
        (e["details"]["rpc"], e["entity_id"]) for e in trail if e["action"] == "read_card"
    )
    assert reads == sorted(
        (rpc_name, vid)
        for vid in ids
        for rpc_name in ("get_veteran", "get_card", "find_veteran_by_id_number")
    )
    searches = [e for e in trail if e["action"] == "search_veterans"]
    assert all(e["entity_id"] is None and e["role"] == "county" for e in searches)
    details = [e["details"] for e in reversed(searches)]  # oldest first
    assert details[0] == {
        "filter_keys": [],
        "filters": {},
        "page": 1,
        "page_size": 200,
        "rows": 5,
        "total": 5,
    }
    assert details[1]["filter_keys"] == ["employment_status", "name"]
    assert details[1]["filters"] == {"employment_status": ["unemployed"]}
    assert details[1]["rows"] == 1 and "欧阳" not in str(details[1])
    # the export: its pages, with the county asked for and every row it wrote
    assert details[2:] == [
        {
            "filter_keys": ["county_code"],
            "filters": {"county_code": ["652301"]},
            "page": 1,
            "page_size": 200,
            "rows": 5,
            "total": 5,
        }
    ]
    assert [
        (e["action"], e["entity_id"], e["reason"])
        for e in trail
        if e["action"] == "reveal_id_number"
    ] == [("reveal_id_number", ids[0], "signing the loan contract")]
