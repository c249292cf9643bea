"""The project's errors cross nameko's RPC boundary as themselves; marshmallow's nested
messages become flat, dotted field names."""

import json

import pytest
from marshmallow import Schema, fields, validate
from nameko.exceptions import RemoteError, deserialize, serialize

from shared.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceError,
    StatementTimeout,
    Unauthorized,
    flatten_errors,
)
from shared.validation import load, parse_uuid

ERRORS = [
    InvalidInput(
        "invalid input",
        {"intentions.occupations.0": ["unknown"], "phone": ["not a mainland mobile number"]},
    ),
    NotFound("no veteran 0b7f3c2e-5d1a-4e8b-9c3f-2a1b0c9d8e7f"),
    Conflict("already registered", {"veteran_id": "0b7f3c2e-5d1a-4e8b-9c3f-2a1b0c9d8e7f"}),
    Unauthorized("no valid token"),
    Forbidden("not allowed", {"needs": ["clerk"]}),
    StatementTimeout("cancelled after 15000 ms", {"statement_timeout_ms": "15000"}),
]


def over_the_wire(exc):
    """What a ClusterRpcProxy caller gets back: serialised, sent as JSON, rebuilt."""
    return deserialize(json.loads(json.dumps(serialize(exc))))


@pytest.mark.parametrize("exc", ERRORS, ids=lambda e: type(e).__name__)
def test_each_error_survives_nameko_serialisation_as_its_own_class(exc):
    back = over_the_wire(exc)
    assert type(back) is type(exc)
    assert back.message == exc.message
    assert back.details == exc.details
    assert str(back) == str(exc)


@pytest.mark.parametrize("exc", ERRORS, ids=lambda e: type(e).__name__)
def test_each_error_is_a_service_error(exc):
    assert isinstance(exc, ServiceError)


def test_an_error_without_details_has_empty_details_on_both_sides():
    exc = NotFound("gone")
    assert exc.details == {}
    assert over_the_wire(exc).details == {}


def test_invalid_input_errors_are_its_details():
    exc = over_the_wire(InvalidInput("invalid input", {"phone": ["bad"]}))
    assert exc.errors == {"phone": ["bad"]}


def test_to_dict_names_the_class_message_and_details():
    assert Conflict("taken", {"veteran_id": "v1"}).to_dict() == {
        "error": "Conflict",
        "message": "taken",
        "details": {"veteran_id": "v1"},
    }


def test_a_foreign_exception_comes_back_as_a_remote_error():
    back = over_the_wire(KeyError("x"))
    assert isinstance(back, RemoteError)
    assert back.exc_type == "KeyError"


# -- flatten_errors -----------------------------------------------------------------------


def test_flatten_errors_joins_nested_field_names_and_list_indexes_with_dots():
    assert flatten_errors({"intentions": {"occupations": {0: ["unknown"]}}}) == {
        "intentions.occupations.0": ["unknown"]
    }


def test_flatten_errors_keeps_schema_level_messages_under_schema():
    assert flatten_errors({"_schema": ["Invalid input type."]}) == {
        "_schema": ["Invalid input type."]
    }


def test_flatten_errors_keeps_sibling_fields_apart():
    assert flatten_errors(
        {
            "phone": ["bad"],
            "intentions": {"min_salary": ["too big"]},
            "skills": {2: ["unknown"], 5: ["unknown"]},
        }
    ) == {
        "phone": ["bad"],
        "intentions.min_salary": ["too big"],
        "skills.2": ["unknown"],
        "skills.5": ["unknown"],
    }


def test_flatten_errors_numbers_the_items_of_a_list_of_nested_messages():
    assert flatten_errors({"items": [{"code": ["bad"]}, {"code": ["worse"]}]}) == {
        "items.0.code": ["bad"],
        "items.1.code": ["worse"],
    }


def test_flatten_errors_of_dict_key_errors_names_the_key():
    # marshmallow reports a bad dict key as {field: {key: {"key": [...]}}}
    assert flatten_errors({"criteria": {"bogus": {"key": ["Must be one of: a, b."]}}}) == {
        "criteria.bogus.key": ["Must be one of: a, b."]
    }


# -- shared.validation --------------------------------------------------------------------


class Inner(Schema):
    occupations = fields.List(fields.String(validate=validate.OneOf(["driver"])))


class Outer(Schema):
    name = fields.String(required=True)
    intentions = fields.Nested(Inner)


def test_load_returns_the_loaded_data_when_valid():
    assert load(Outer(), {"name": "a", "intentions": {"occupations": ["driver"]}}) == {
        "name": "a",
        "intentions": {"occupations": ["driver"]},
    }


def test_load_raises_invalid_input_with_flattened_field_names():
    with pytest.raises(InvalidInput) as caught:
        load(Outer(), {"intentions": {"occupations": ["driver", "astronaut"]}})
    errors = caught.value.errors
    assert set(errors) == {"name", "intentions.occupations.1"}
    assert all(isinstance(m, list) and m for m in errors.values())


def test_load_of_a_non_dict_raises_invalid_input_under_schema():
    with pytest.raises(InvalidInput) as caught:
        load(Outer(), ["not", "a", "dict"])
    assert list(caught.value.errors) == ["_schema"]


def test_load_with_partial_does_not_require_missing_fields():
    assert load(Outer(), {}, partial=True) == {}


def test_the_invalid_input_from_load_survives_the_wire():
    with pytest.raises(InvalidInput) as caught:
        load(Outer(), {"intentions": {"occupations": ["astronaut"]}})
    assert over_the_wire(caught.value).errors == caught.value.errors


def test_parse_uuid_accepts_a_uuid_and_names_the_field_otherwise():
    value = "0b7f3c2e-5d1a-4e8b-9c3f-2a1b0c9d8e7f"
    assert str(parse_uuid(value, "veteran_id")) == value
    with pytest.raises(InvalidInput) as caught:
        parse_uuid("nope", "loan_id")
    assert list(caught.value.errors) == ["loan_id"]


def test_an_unknown_field_named_with_personal_data_is_masked_and_cut_in_the_message():
    class One(Schema):
        county_code = fields.String()

    key = "652301199003071231" + "x" * 60
    with pytest.raises(InvalidInput) as raised:
        load(One(), {key: 1})
    assert "19900307" not in raised.value.message
    assert (
        raised.value.message == "invalid input: 652301***********1" + "x" * 22 + ": Unknown field."
    )
