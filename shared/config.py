"""Configuration: one YAML per service with ${VAR:default} placeholders, read the way
``nameko run --config`` reads it, so tools and tests see exactly what services see."""

import os
from pathlib import Path

import yaml
from nameko.cli.main import setup_yaml_parser

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672//"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/root"


def load_config(path):
    setup_yaml_parser()
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def service_config(service):
    """The config of one service, from ``services/<service>/config.yaml``."""
    return load_config(ROOT / "services" / service / "config.yaml")


def amqp_uri(config=None):
    return (config or {}).get("AMQP_URI") or os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def database_url(config=None):
    return (config or {}).get("DATABASE_URL") or os.environ.get(
        "DATABASE_URL", DEFAULT_DATABASE_URL
    )
