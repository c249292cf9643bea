"""Reads the annual form's definition (shared/data/annual_form.yaml, or ANNUAL_FORM_FILE)."""

import os
from functools import cache
from pathlib import Path

import yaml

from services.registry.form_domain import FormDefinition

DEFAULT_PATH = Path(__file__).parents[2] / "shared" / "data" / "annual_form.yaml"


def load_definition(path: str | Path | None = None) -> FormDefinition:
    return _load(str(path or os.environ.get("ANNUAL_FORM_FILE") or DEFAULT_PATH))


@cache
def _load(path: str) -> FormDefinition:
    with open(path, encoding="utf-8") as f:
        return FormDefinition.from_data(yaml.safe_load(f), path)
