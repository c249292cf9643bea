"""registry's input schemas: the ID number is checked (length, birth date, check character)."""

from datetime import date

import pytest
from marshmallow import ValidationError

from services.registry.schemas import IdNumberSchema, RegisterVeteranSchema
from tests.factories import make_veteran
from tests.helpers import bureau_today

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def gb11643(body):
    """The check character of GB 11643-1999, computed independently of stdnum."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def card(birth="19900307", county="652301", tail="123"):
    body = f"{county}{birth}{tail}"
    return body + gb11643(body)


def card_ending_in_x():
    for seq in range(1000):
        number = card(tail=f"{seq:03d}")
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence gives X")


def wrong_check(number):
    return number[:17] + ("0" if number[-1] != "0" else "1")


SCHEMAS = {
    "register": (RegisterVeteranSchema, lambda n: make_veteran(id_number=n)),
    "id_number": (IdNumberSchema, lambda n: {"id_number": n}),
}


@pytest.fixture(params=sorted(SCHEMAS))
def schema(request):
    cls, payload = SCHEMAS[request.param]
    return lambda number: cls().load(payload(number))


def rejection(load, number):
    with pytest.raises(ValidationError) as caught:
        load(number)
    messages = caught.value.messages
    assert set(messages) == {"id_number"}, messages
    return " ".join(messages["id_number"])


def test_the_register_schema_accepts_a_factory_veteran():
    data = make_veteran()
    loaded = RegisterVeteranSchema().load(data)
    assert loaded["id_number"] == data["id_number"]
    assert loaded["discharged_on"] == date(2016, 12, 1)
    assert loaded["intentions"]["min_salary"] == 4000


def test_the_register_schema_strips_the_name():
    assert RegisterVeteranSchema().load(make_veteran(name="  张伟 "))["name"] == "张伟"


def test_a_valid_id_number_is_accepted(schema):
    number = card()
    assert schema(number)["id_number"] == number


def test_a_lowercase_x_check_character_is_normalised_to_uppercase(schema):
    number = card_ending_in_x()
    assert schema(number.lower())["id_number"] == number


def test_an_id_number_with_a_wrong_check_character_is_rejected(schema):
    assert "check character" in rejection(schema, wrong_check(card()))


def test_an_id_number_ending_in_x_where_a_digit_is_due_is_rejected(schema):
    number = card()
    assert number[-1] != "X"
    assert "check character" in rejection(schema, number[:17] + "X")


def test_an_id_number_with_an_impossible_birth_date_is_rejected(schema):
    assert "impossible" in rejection(schema, card(birth="19900230"))


def test_an_id_number_with_a_birth_date_in_the_future_is_rejected(schema):
    next_year = bureau_today().year + 1
    assert "future" in rejection(schema, card(birth=f"{next_year}0101"))


@pytest.mark.parametrize("length", [17, 19, 15])
def test_an_id_number_of_the_wrong_length_is_rejected(schema, length):
    number = (card() + "1234")[:length]
    assert "18 characters" in rejection(schema, number)


def test_an_id_number_with_letters_in_its_body_is_rejected(schema):
    number = card()
    assert "18 characters" in rejection(schema, "A" + number[1:])


def test_an_overlong_id_number_is_rejected(schema):
    with pytest.raises(ValidationError) as caught:
        schema("1" * 40)
    assert "id_number" in caught.value.messages


def test_the_register_schema_names_every_missing_required_field():
    with pytest.raises(ValidationError) as caught:
        RegisterVeteranSchema().load({})
    assert {
        "id_number",
        "name",
        "county_code",
        "discharged_on",
        "discharge_type",
        "willingness",
        "employment_status",
    } <= set(caught.value.messages)
