"""``shared.db``'s SQL helpers, the ones every store uses: the dict-row INSERT, the county
scope and the LIKE escape."""

import pytest

from shared import db


class Cursor:
    def execute(self, sql, args=None):
        self.sql, self.args = sql, args


def test_insert_names_the_rows_keys_and_passes_its_values_as_parameters():
    cur = Cursor()
    db.insert(cur, "hires", {"id": "h-1", "salary": 5000, "note": "x'); DROP TABLE hires; --"})
    assert cur.sql == "INSERT INTO hires (id, salary, note) VALUES (%s, %s, %s)"
    assert cur.args == ["h-1", 5000, "x'); DROP TABLE hires; --"]


def test_insert_appends_the_stores_own_suffix():
    cur = Cursor()
    db.insert(cur, "employers", {"uscc": "9165"}, " ON CONFLICT (uscc) DO NOTHING RETURNING id")
    assert cur.sql == (
        "INSERT INTO employers (uscc) VALUES (%s) ON CONFLICT (uscc) DO NOTHING RETURNING id"
    )


def test_the_county_scope_is_all_counties_for_none():
    assert db.in_counties() == "(%(c)s::text[] IS NULL OR county_code = ANY(%(c)s::text[]))"
    assert db.in_counties("v.county_code", "scope") == (
        "(%(scope)s::text[] IS NULL OR v.county_code = ANY(%(scope)s::text[]))"
    )


@pytest.mark.parametrize(
    "text,escaped",
    [
        ("仓库", "仓库"),
        ("100%", "100\\%"),
        ("a_b", "a\\_b"),
        ("c:\\x", "c:\\\\x"),
        ("\\%_", "\\\\\\%\\_"),
    ],
)
def test_like_escaping_makes_the_clients_wildcards_literal(text, escaped):
    assert db.like_escaped(text) == escaped
    assert db.like_containing(text) == f"%{escaped}%"
