"""Bad input to register_veteran: InvalidInput naming the field, and nothing written."""

import pytest

from services.registry.service import RegistryService
from shared.errors import InvalidInput
from tests.factories import id_number, make_veteran
from tests.helpers import scalar

GOOD = make_veteran()
BAD_CHECK = GOOD["id_number"][:17] + ("0" if GOOD["id_number"][17] != "0" else "1")
IMPOSSIBLE_DATE = id_number(birth="19900230")[:17]
IMPOSSIBLE_DATE += "X"  # whatever the check character, the date (Feb 30th) is impossible


def without(field):
    return {k: v for k, v in GOOD.items() if k != field}


CASES = [
    ("missing id_number", without("id_number"), "id_number"),
    ("missing name", without("name"), "name"),
    ("missing county", without("county_code"), "county_code"),
    ("missing discharge date", without("discharged_on"), "discharged_on"),
    ("missing willingness", without("willingness"), "willingness"),
    ("id number of wrong length", {**GOOD, "id_number": "65230119900307"}, "id_number"),
    ("id number with a bad check character", {**GOOD, "id_number": BAD_CHECK}, "id_number"),
    (
        "id number with an impossible birth date",
        {**GOOD, "id_number": IMPOSSIBLE_DATE},
        "id_number",
    ),
    ("id number that is a number", {**GOOD, "id_number": 652301199003071231}, "id_number"),
    ("county outside the jurisdiction", {**GOOD, "county_code": "110101"}, "county_code"),
    ("unknown skill", {**GOOD, "skills": ["driver_b2", "juggling"]}, "skills.1"),
    ("unknown willingness", {**GOOD, "willingness": "maybe"}, "willingness"),
    ("unknown employment status", {**GOOD, "employment_status": "busy"}, "employment_status"),
    ("unknown service need", {**GOOD, "service_needs": ["free_money"]}, "service_needs.0"),
    ("unknown discharge type", {**GOOD, "discharge_type": "ran_away"}, "discharge_type"),
    ("unknown branch", {**GOOD, "branch": "space_force"}, "branch"),
    (
        "unknown intended occupation",
        {**GOOD, "intentions": {"occupations": ["astronaut"]}},
        "intentions.occupations.0",
    ),
    (
        "intended county outside",
        {**GOOD, "intentions": {"counties": ["110101"]}},
        "intentions.counties.0",
    ),
    (
        "negative minimum salary",
        {**GOOD, "intentions": {"min_salary": -1}},
        "intentions.min_salary",
    ),
    ("skills not a list", {**GOOD, "skills": "driver_b2"}, "skills"),
    ("name too long", {**GOOD, "name": "张" * 51}, "name"),
    ("address too long", {**GOOD, "address": "路" * 201}, "address"),
    ("phone not a mobile number", {**GOOD, "phone": "0994-1234567"}, "phone"),
    ("date not a date", {**GOOD, "discharged_on": "yesterday"}, "discharged_on"),
    ("discharge in the future", {**GOOD, "discharged_on": "2999-01-01"}, "discharged_on"),
    ("enlisted after discharge", {**GOOD, "enlisted_on": "2017-01-01"}, "enlisted_on"),
    ("unknown field", {**GOOD, "favourite_colour": "red"}, "favourite_colour"),
    ("payload a string", "张伟", "_schema"),
    ("payload a list", [GOOD], "_schema"),
    ("payload null", None, "_schema"),
]


@pytest.mark.parametrize("data,field", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_invalid_input_naming_the_field_and_writes_nothing(
    start, rpc, db, data, field
):
    start(RegistryService)
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.register_veteran(data)
    assert field in caught.value.errors, caught.value.errors
    assert all(isinstance(m, str) for msgs in caught.value.errors.values() for m in msgs)
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 0
    assert scalar(db, "SELECT count(*) FROM registry.outbox") == 0


@pytest.mark.parametrize(
    "data,field",
    [
        ({**GOOD, "name": "张\x00伟"}, "name"),
        ({**GOOD, "address": "路\ud800"}, "address"),
        ({**GOOD, "certificates": ["证" * 100]}, None),  # as long as allowed: accepted
    ],
)
def test_strings_the_database_cannot_hold_are_invalid_input(start, rpc, db, data, field):
    start(RegistryService)
    if field is None:
        assert rpc.registry.register_veteran(data)["certificates"] == data["certificates"]
        return
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.register_veteran(data)
    assert field in caught.value.errors
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 0
