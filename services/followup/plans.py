"""The revisit plans file (``plans.yaml``, or ``PLANS_FILE``): its schema, its loader and the
dependency that reads it once when the service starts; a bad file stops the service."""

import os
from pathlib import Path

import yaml
from marshmallow import Schema, ValidationError, fields, validate
from nameko.extensions import DependencyProvider

from services.followup.domain import CATEGORIES

DEFAULT_PLANS = Path(__file__).resolve().parent / "plans.yaml"


class PlansSchema(Schema):
    plans = fields.Dict(
        keys=fields.String(validate=validate.OneOf(["employment", "business"])),
        values=fields.List(
            fields.Integer(strict=True, validate=validate.Range(min=1, max=3650)),
            validate=validate.Length(min=1),
        ),
        required=True,
    )
    grace_days = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=365))
    departments = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CATEGORIES)),
        values=fields.String(validate=validate.Length(min=1)),
        required=True,
    )


def load_plans(path=None):
    path = Path(path or os.environ.get("PLANS_FILE") or DEFAULT_PLANS)
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    try:
        plans = PlansSchema().load(raw)
    except ValidationError as exc:
        raise ValueError(f"{path}: {exc.messages}") from None
    missing = set(CATEGORIES) - set(plans["departments"])
    if missing:
        raise ValueError(f"{path}: no department for {', '.join(sorted(missing))}")
    return plans


class Plans(DependencyProvider):
    """The plans file (PLANS_FILE), read once; a bad file stops the service."""

    def setup(self):
        self.plans = load_plans(self.container.config.get("PLANS_FILE") or None)

    def get_dependency(self, worker_ctx):
        return self.plans
