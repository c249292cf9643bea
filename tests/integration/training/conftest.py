"""Fixtures for training: the service on the real servers, veterans it knows through
registry's events, a training base, a course and a cohort."""

import pytest

from services.training.service import TrainingService
from tests.helpers import days_from_today, publish, registered_event, scalar, wait_for

in_days = days_from_today  # the bureau's today moved by ``days``, as ISO text


@pytest.fixture
def training(start):
    return start(TrainingService)


@pytest.fixture
def trained_veteran(config, db):
    """``trained_veteran(**data)``: publishes ``veteran_registered`` and waits until
    training's projection holds the veteran; returns the event's data."""

    def make(**data):
        event = registered_event(**data)
        publish(config, event)
        wait_for(
            lambda: scalar(
                db,
                "SELECT count(*) FROM training.veterans WHERE veteran_id = %s",
                event["data"]["veteran_id"],
            ),
            message="training's projection",
        )
        return event["data"]

    return make


@pytest.fixture
def base(training, rpc):
    return rpc.training.register_base(
        {
            "name": "昌吉州职业技能培训学校",
            "kind": "training",
            "county_code": "652301",
            "capacity": 200,
        }
    )


@pytest.fixture
def course(rpc, base):
    return rpc.training.open_course(
        {
            "title": "消防设施操作员（初级）",
            "occupation": "fire_facility_operator",
            "certificate_name": "消防设施操作员证",
            "skills_granted": ["fire_facility_operator"],
            "theory_hours": 40,
            "practical_hours": 60,
            "mode": "hybrid",
            "base_id": base["id"],
        }
    )


@pytest.fixture
def cohort(rpc, course):
    return rpc.training.open_cohort(
        course["id"], {"starts_on": in_days(3), "ends_on": in_days(33), "capacity": 30}
    )
