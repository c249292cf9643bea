"""registry's pure domain: identity derived from the ID number, masking, register, present."""

import json
from datetime import UTC, date, datetime

import pytest

from services.registry import domain
from services.registry.schemas import RegisterVeteranSchema
from shared.contracts import Event, dump_data
from shared.contracts.registry import VETERAN_REGISTERED
from tests.factories import make_veteran

NOW = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def gb11643(body):
    """The check character of GB 11643-1999, computed here independently of stdnum."""
    assert len(body) == 17 and body.isdigit()
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def card(county="652301", birth="19900307", seq="12", gender_digit="3"):
    body = f"{county}{birth}{seq}{gender_digit}"
    return body + gb11643(body)


# -- identity -----------------------------------------------------------------------------


@pytest.mark.parametrize("digit", "13579")
def test_an_odd_seventeenth_digit_means_male(digit):
    gender, _, _ = domain.identity(card(gender_digit=digit))
    assert gender == "male"


@pytest.mark.parametrize("digit", "02468")
def test_an_even_seventeenth_digit_means_female(digit):
    gender, _, _ = domain.identity(card(gender_digit=digit))
    assert gender == "female"


def test_the_gender_comes_from_the_seventeenth_digit_not_the_check_character():
    # Body ends in an even digit (female); pick a sequence whose check character is odd.
    for seq in range(100):
        number = card(seq=f"{seq:02d}", gender_digit="4")
        if number[-1] in "13579":
            break
    assert domain.identity(number)[0] == "female"


def test_the_birth_date_is_read_from_digits_seven_to_fourteen():
    _, birth_date, _ = domain.identity(card(birth="19761231"))
    assert birth_date == date(1976, 12, 31)


def test_a_division_code_stdnum_does_not_know_for_the_birth_year_is_flagged():
    # 652301 (昌吉市) is a later division code: stdnum does not list it for 1950.
    _, _, flags = domain.identity(card(county="652301", birth="19500101"))
    assert flags == [domain.FLAG_DIVISION_UNVERIFIED]
    assert domain.FLAG_DIVISION_UNVERIFIED == "id_division_unverified"


def test_a_division_code_valid_for_the_birth_year_is_not_flagged():
    _, _, flags = domain.identity(card(county="652301", birth="19900101"))
    assert flags == []


# -- masking ------------------------------------------------------------------------------


def test_mask_id_number_shows_the_first_six_eleven_stars_and_the_check_character():
    number = "65230119900307123X"
    masked = domain.mask_id_number(number)
    assert masked == "652301" + "*" * 11 + "X"
    assert len(masked) == 18
    assert "19900307" not in masked and "123" not in masked


def test_the_masked_id_number_with_birth_date_and_gender_still_fits_many_numbers():
    """What a reply shows together (mask, birth date, gender) leaves dozens of valid
    numbers: no reply can be undone. The old mask (first six, last four) left exactly one."""
    number = card(county="652301", birth="19900307", seq="12", gender_digit="3")
    gender, birth_date, _ = domain.identity(number)
    candidates = rebuilt(domain.mask_id_number(number), birth_date, gender)
    assert number in candidates and len(candidates) >= 30
    old_mask = number[:6] + "*" * 8 + number[-4:]
    assert rebuilt(old_mask, birth_date, gender) == [number]


def rebuilt(masked, birth_date, gender):
    """Every GB 11643 number that fits ``masked`` (every character it shows) given the
    birth date and gender."""
    head = masked[:6] + birth_date.strftime("%Y%m%d")
    found = []
    for seq in range(1000):
        body = f"{head}{seq:03d}"
        if any(
            shown not in ("*", digit) for shown, digit in zip(masked[14:17], body[14:], strict=True)
        ):
            continue
        if (seq % 2 == 1) != (gender == "male"):
            continue
        if masked[17] in ("*", gb11643(body)):
            found.append(body + gb11643(body))
    return found


def test_mask_phone_shows_the_first_three_four_stars_and_the_last_four():
    assert domain.mask_phone("13812345678") == "138****5678"
    assert domain.mask_phone(None) is None


# -- register -----------------------------------------------------------------------------


def command(**overrides):
    return RegisterVeteranSchema().load(make_veteran(**overrides))


def all_values(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from all_values(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from all_values(v)
    else:
        yield value


def test_register_returns_the_veteran_with_derived_identity_and_timestamps():
    number = card(birth="19850615", gender_digit="2")
    veteran, _ = domain.register(command(id_number=number), "vid-1", NOW)
    assert isinstance(veteran, domain.Veteran)
    assert veteran.id == "vid-1"
    assert veteran.id_number == number
    assert (veteran.gender, veteran.birth_date) == ("female", date(1985, 6, 15))
    assert veteran.registered_at == veteran.updated_at == NOW
    assert veteran.flags == []


def test_register_carries_the_division_flag_onto_the_veteran():
    veteran, _ = domain.register(command(id_number=card(birth="19500101")), "vid", NOW)
    assert veteran.flags == [domain.FLAG_DIVISION_UNVERIFIED]


def test_register_causes_exactly_one_veteran_registered_event_about_this_veteran():
    veteran, events = domain.register(command(), "vid-2", NOW)
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, Event)
    assert event.type == VETERAN_REGISTERED == "veteran_registered"
    assert event.data["veteran_id"] == "vid-2"
    assert event.data["county_code"] == veteran.county_code
    assert event.data["birth_year"] == veteran.birth_date.year


def test_the_registered_event_carries_no_personal_identifier_as_key_or_value():
    data = command()
    veteran, [event] = domain.register(data, "vid-3", NOW)
    for key in ("id_number", "name", "phone", "address"):
        assert key not in event.data
    values = {str(v) for v in all_values(event.data)}
    for secret in (veteran.id_number, veteran.name, veteran.phone, veteran.address):
        assert secret
        assert not any(secret in v for v in values), secret


def test_the_registered_event_passes_its_contract():
    _, [event] = domain.register(command(), "vid-4", NOW)
    data = dump_data("registry", event)
    assert data["discharged_on"] == "2016-12-01"
    assert data["intentions"]["occupations"] == ["driver"]


# -- present ------------------------------------------------------------------------------


def test_present_masks_the_id_number_and_phone_and_leaves_the_address_out_by_default():
    veteran, _ = domain.register(command(), "vid-5", NOW)
    reply = domain.present(veteran)
    assert reply["id_number"] == domain.mask_id_number(veteran.id_number)
    assert reply["id_number"] != veteran.id_number
    assert reply["phone"] == domain.mask_phone(veteran.phone) != veteran.phone
    assert "address" not in reply


def test_present_with_contact_shows_phone_and_address_but_still_masks_the_id_number():
    veteran, _ = domain.register(command(), "vid-6", NOW)
    reply = domain.present(veteran, contact=True)
    assert reply["phone"] == veteran.phone and reply["address"] == veteran.address
    assert reply["id_number"] == domain.mask_id_number(veteran.id_number)


def test_present_does_not_change_the_veteran_it_presents():
    veteran, _ = domain.register(command(), "vid-7", NOW)
    number, phone = veteran.id_number, veteran.phone
    domain.present(veteran)
    assert veteran.id_number == number and veteran.phone == phone


@pytest.mark.parametrize("contact", [False, True])
def test_present_is_json_serialisable_with_dates_as_iso_strings(contact):
    veteran, _ = domain.register(command(), "vid-8", NOW)
    reply = json.loads(json.dumps(domain.present(veteran, contact=contact)))
    assert reply["birth_date"] == veteran.birth_date.isoformat()
    assert reply["discharged_on"] == "2016-12-01"
    assert reply["enlisted_on"] == "2008-09-01"
    assert reply["registered_at"] == NOW.isoformat()
    assert reply["intentions"]["counties"] == ["652301"]
