"""The test factories' ID numbers: valid, and never the same twice in a run."""

from services.registry.schemas import check_id_number
from tests.factories import id_number, make_veteran, unique_id_numbers


def test_generated_id_numbers_are_valid_and_never_repeat():
    numbers = [make_veteran()["id_number"] for _ in range(2000)]  # past one birth day's 400
    numbers += [id_number(birth="19900308") for _ in range(100)]  # a day the first run into
    numbers += unique_id_numbers(3000)
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        check_id_number(number)  # registry's own rule: raises on a bad one
    assert {id_number(seq=s) for s in range(100)}.isdisjoint(numbers)


def test_a_number_with_a_seq_is_the_same_every_time():
    assert id_number(seq=11) == id_number(seq=11) != id_number(seq=11, male=False)


def test_a_birth_date_asked_for_is_kept_even_an_impossible_one():
    first, second = id_number(birth="19900230"), id_number(birth="19900230")
    assert first != second and first[6:14] == second[6:14] == "19900230"
    assert id_number(birth="19851201", male=False)[6:14] == "19851201"
