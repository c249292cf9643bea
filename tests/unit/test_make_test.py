"""`make test` and pytest's exit 5 ("no tests ran"): success only when the run asked for a
selection (-k/-m) that may match nothing. Runs the Makefile's own recipe on an empty
directory (`-o venv`: no reinstall, whatever pyproject.toml's time); no broker, no database."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make_test(pytest_args):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }  # not the outer make's args
    return subprocess.Popen(
        ["make", "-s", "-o", "venv", "test", f"PYTEST_ARGS={pytest_args}"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_run_that_collects_nothing_fails_unless_it_asked_for_a_selection(tmp_path):
    plain = make_test(f"{tmp_path} -q -p no:cacheprovider")
    selected = make_test(f"{tmp_path} -q -p no:cacheprovider -m 'no_such_marker'")
    plain_out, plain_err = plain.communicate(timeout=120)
    selected_out, selected_err = selected.communicate(timeout=120)
    assert plain.returncode != 0, plain_out
    assert "collected no tests (exit 5)" in plain_err
    assert selected.returncode == 0, selected_out + selected_err
    assert "selection matched no tests" in selected_out
