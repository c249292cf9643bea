"""The deny list of revoked token ids: its file's format, re-reading it when it changes
(at most every CHECK_SECONDS), a missing file, and a Verifier reading it."""

import os

import pytest

from shared import auth, denylist
from shared.errors import Unauthorized

SECRET = "deny-list-test-secret-0123456789abcdef"


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_file_holds_one_id_a_line_with_optional_comments():
    text = (
        "# revoked tokens\n\n  a1  # lost laptop, 2026-12-07\nb2\n"
        "#c3 commented out\nd4 extra words # are ignored\n"
    )
    assert denylist.parse(text) == {"a1", "b2", "d4"}


def test_a_missing_file_is_an_empty_list(tmp_path):
    deny = denylist.DenyList(tmp_path / "nowhere" / "deny-list")
    assert len(deny) == 0 and "a1" not in deny


def test_an_edit_is_seen_once_the_check_interval_has_passed_and_not_before(tmp_path):
    path, ticks = tmp_path / "deny-list", Ticks()
    path.write_text("a1\n")
    deny = denylist.DenyList(path, check_seconds=5, monotonic=ticks)
    assert "a1" in deny and "b2" not in deny
    with path.open("a") as handle:
        handle.write("b2  # revoked while running\n")
    ticks.now += 4.9
    assert "b2" not in deny  # no stat before the interval: the hot path stays a set lookup
    ticks.now += 0.1
    assert "b2" in deny and "a1" in deny


def test_the_file_is_not_read_again_while_unchanged(tmp_path, monkeypatch):
    path, ticks = tmp_path / "deny-list", Ticks()
    path.write_text("a1\n")
    deny = denylist.DenyList(path, check_seconds=5, monotonic=ticks)
    reads = []
    monkeypatch.setattr(denylist, "parse", lambda text: reads.append(text) or frozenset())
    for _ in range(3):
        ticks.now += 10
        assert "a1" in deny
    assert reads == []


def test_a_file_created_replaced_or_removed_later_is_followed(tmp_path):
    path, ticks = tmp_path / "deny-list", Ticks()
    deny = denylist.DenyList(path, check_seconds=5, monotonic=ticks)
    path.write_text("a1\n")
    ticks.now += 5
    assert "a1" in deny
    replacement = tmp_path / "new"
    replacement.write_text("b2\n")
    os.replace(replacement, path)  # how editors and ConfigMap updates swap a file
    ticks.now += 5
    assert "b2" in deny and "a1" not in deny
    path.unlink()
    ticks.now += 5
    assert "b2" not in deny


def test_the_path_comes_from_config_else_the_environment_else_local(tmp_path, monkeypatch):
    monkeypatch.delenv("VET_AUTH_DENY_LIST", raising=False)
    monkeypatch.setenv("LOCAL_DIR", str(tmp_path))
    assert denylist.path_from({}) == tmp_path / "token-deny-list"
    monkeypatch.setenv("VET_AUTH_DENY_LIST", "/etc/vs/deny")
    assert str(denylist.path_from({"AUTH_DENY_LIST": ""})) == "/etc/vs/deny"
    assert str(denylist.path_from({"AUTH_DENY_LIST": "/mnt/list"})) == "/mnt/list"


def test_a_verifier_refuses_a_token_revoked_in_its_file_within_the_interval(tmp_path):
    path, ticks = tmp_path / "deny-list", Ticks()
    token = auth.issue(SECRET, "clerk-07", "county", ["652301"])
    verifier = auth.Verifier([SECRET], denylist.DenyList(path, check_seconds=5, monotonic=ticks))
    assert verifier.verify(token).id == "clerk-07"
    path.write_text(f"{auth.token_id(token)}  # clerk-07's laptop was stolen\n")
    ticks.now += 5
    with pytest.raises(Unauthorized, match="token revoked"):
        verifier.verify(token)


def test_verifier_for_reads_the_configured_deny_list(tmp_path):
    path = tmp_path / "deny-list"
    token = auth.issue(SECRET, "op", "admin", ["*"])
    path.write_text(auth.token_id(token) + "\n")
    verifier = auth.verifier_for({"AUTH_SECRETS": SECRET, "AUTH_DENY_LIST": str(path)})
    with pytest.raises(Unauthorized, match="token revoked"):
        verifier.verify(token)
