"""vetctl token issue / revoke without servers: a token's id is shown, revoking appends
it to the deny list the services read, and a short secret is refused."""

import uuid

import pytest
from click.testing import CliRunner

from shared import auth, denylist
from vetctl import main

SECRET = "vetctl-test-secret-0123456789abcdefgh"


@pytest.fixture
def run(monkeypatch, tmp_path):
    monkeypatch.setenv("VET_AUTH_SECRET", SECRET)
    monkeypatch.setenv("VET_AUTH_DENY_LIST", str(tmp_path / "deny-list"))

    def invoke(*args):
        return CliRunner().invoke(main.cli, list(args))

    return invoke


def test_issue_prints_the_token_and_shows_its_jti_apart(run):
    result = run(
        "token", "issue", "--operator", "clerk-07", "--role", "county", "--counties", "652301"
    )
    assert result.exit_code == 0, result.stderr
    token = result.stdout.strip()  # alone on standard output: TOKEN=$(vetctl token issue …)
    jti = auth.token_id(token)
    assert uuid.UUID(jti) and f"jti: {jti}" in result.stderr
    assert auth.Verifier([SECRET]).verify(token).id == "clerk-07"


def test_issue_as_json_gives_token_and_jti(run):
    import json

    result = run(
        "--json", "token", "issue", "--operator", "a", "--role", "admin", "--counties", "*"
    )
    shown = json.loads(result.stdout)
    assert auth.token_id(shown["token"]) == shown["jti"]


def test_issue_refuses_star_mixed_with_codes(run):
    result = run("token", "issue", "--operator", "a", "--role", "county", "--counties", "*,652301")
    assert result.exit_code == 2 and "* alone" in result.stderr


def test_revoke_appends_one_line_and_the_verifier_refuses_the_token(run, tmp_path):
    token = auth.issue(SECRET, "clerk-07", "county", ["652301"])
    jti = auth.token_id(token)
    path = tmp_path / "deny-list"
    path.write_text("# revoked tokens\nolder-id")  # no newline at the end
    result = run("token", "revoke", jti.upper(), "--reason", "laptop\nstolen  # really")
    assert result.exit_code == 0, result.stderr
    lines = path.read_text().splitlines()
    assert lines[:2] == ["# revoked tokens", "older-id"]
    assert lines[2].startswith(f"{jti}  # ") and lines[2].endswith("laptop stolen # really")
    assert len(lines) == 3 and denylist.parse(path.read_text()) == {"older-id", jti}
    verifier = auth.Verifier([SECRET], denylist.DenyList(path))
    with pytest.raises(Exception, match="token revoked"):
        verifier.verify(token)
    again = run("token", "revoke", jti, "--reason", "twice")
    assert again.exit_code == 0 and "already" in again.stdout
    assert len(path.read_text().splitlines()) == 3


@pytest.mark.parametrize("jti", ["not-a-uuid", "a# b", ""])
def test_revoke_takes_only_a_token_id(run, tmp_path, jti):
    result = run("token", "revoke", jti, "--reason", "x")
    assert result.exit_code == 2
    assert not (tmp_path / "deny-list").exists()


def test_a_short_secret_is_refused_before_any_token_is_made(run, monkeypatch):
    monkeypatch.setenv("VET_AUTH_SECRET", "short")
    result = run("token", "issue", "--operator", "a", "--role", "admin", "--counties", "*")
    assert result.exit_code == 1 and "32 bytes" in result.stderr and not result.stdout


def test_issue_with_stations_limits_the_token_to_them(run):
    result = run(
        "token", "issue", "--operator", "clerk-0101", "--role", "county", "--counties", "652301",
        "--station", "652301001000", "--station", "652301002001",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    operator = auth.Verifier([SECRET]).verify(result.stdout.strip())
    assert operator.stations == ("652301001000", "652301002001")
    assert operator.may_see_card("652301", "652301001003")  # a village of the township
    assert not operator.may_see_card("652301", "652301002002")


@pytest.mark.parametrize(
    "counties,station,says",
    [
        ("652302", "652301001000", "must each lie in one of the token's counties"),
        ("652301", "652301999000", "stations outside the jurisdiction: 652301999000"),
        ("652301", "6523010010", "stations outside the jurisdiction"),
    ],
)
def test_issue_refuses_a_station_outside_the_tokens_counties_or_unknown(
    run, counties, station, says
):
    result = run(
        "token", "issue", "--operator", "a", "--role", "county", "--counties", counties,
        "--station", station,
    )  # fmt: skip
    assert result.exit_code == 2 and says in result.stderr
