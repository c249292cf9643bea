"""Golden test of the event contracts: every event type has a sample envelope, every sample
loads through its contract and dumps back to itself, and none carries a personal identifier.
A change to a contract that breaks a sample is a change consumers will feel."""

import json
from datetime import UTC
from pathlib import Path

import pytest

from shared.contracts import SCHEMAS, ContractError, Event, dump_data, envelope, load_event
from shared.contracts.summaries import SUMMARIES, summary

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "contracts" / "samples"
PERSONAL = {"id_number", "name", "phone", "address", "preferential_card_number"}


def sample(source, event_type):
    return json.loads((SAMPLES / f"{source}.{event_type}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("source,event_type", sorted(SCHEMAS))
def test_every_event_type_has_a_sample_that_round_trips(source, event_type):
    body = sample(source, event_type)
    event = load_event(body)
    assert (event.source, event.type) == (source, event_type)
    assert dump_data(source, Event(event_type, event.data)) == body["data"]


@pytest.mark.parametrize("source,event_type", sorted(SUMMARIES))
def test_every_summarised_event_reads_as_one_line_of_its_sample(source, event_type):
    # The line registry's timeline keeps for it (a summary that reads a field the event
    # does not carry would dead-letter every such event).
    data = sample(source, event_type)["data"]
    line = summary(source, event_type, data)
    assert line and "\n" not in line and "None" not in line


def test_every_sample_file_belongs_to_a_contract():
    names = {p.stem for p in SAMPLES.glob("*.json")}
    assert names == {f"{s}.{t}" for s, t in SCHEMAS}


@pytest.mark.parametrize("source,event_type", sorted(SCHEMAS))
def test_no_sample_carries_a_personal_identifier(source, event_type):
    def keys(value):
        if isinstance(value, dict):
            return set(value) | set().union(*map(keys, value.values()))
        if isinstance(value, list):
            return set().union(*map(keys, value)) if value else set()
        return set()

    assert not keys(sample(source, event_type)["data"]) & PERSONAL


def test_a_producer_cannot_emit_data_that_breaks_the_contract():
    data = load_event(sample("registry", "veteran_registered")).data
    with pytest.raises(ContractError):
        dump_data("registry", Event("veteran_registered", {**data, "gender": "unknown"}))
    with pytest.raises(ContractError):
        dump_data(
            "registry",
            Event("veteran_registered", {k: v for k, v in data.items() if k != "county_code"}),
        )
    with pytest.raises(ContractError):  # a date as a string is a producer bug, not a crash
        dump_data("registry", Event("veteran_registered", {**data, "discharged_on": "2016-12-01"}))


def test_a_consumer_ignores_fields_a_newer_producer_added():
    body = sample("registry", "veteran_registered")
    body["data"]["ethnicity_code"] = "01"
    assert "ethnicity_code" not in load_event(body).data


def test_an_envelope_names_its_source_and_keeps_the_correlation_id():
    from datetime import datetime

    data = load_event(sample("loans", "loan_eligibility_assessed")).data
    body = envelope(
        "loans", Event("loan_eligibility_assessed", data), "abc", datetime(2026, 11, 28, tzinfo=UTC)
    )
    assert body["source"] == "loans" and body["correlation_id"] == "abc"
    assert load_event(body).data == data


def test_an_unknown_event_type_is_a_contract_error():
    body = sample("registry", "veteran_registered")
    body["type"] = "veteran_teleported"
    with pytest.raises(ContractError):
        load_event(body)
