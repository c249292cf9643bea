"""Architecture: business dates and times come from ``shared.clock`` only. Walks the
source (AST) of services, shared, vetctl, bench and tests and fails on any read of the
machine's wall clock or calendar outside ``shared/clock.py`` and the allow-list below, and
on SQL that asks the database for a date (``current_date`` depends on the session's zone).
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TREES = ("services", "shared", "vetctl", "bench", "tests")

# (module, attribute) pairs that read the machine's clock or calendar.
WALL_CLOCK = {
    ("date", "today"),
    ("datetime", "today"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "fromtimestamp"),
    ("datetime", "utcfromtimestamp"),
    ("date", "fromtimestamp"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
    ("time", "asctime"),
    ("time", "strftime"),
}
SQL_DATE = re.compile(
    r"\b(current_date|current_time|localtimestamp|localtime)\b"
    r"|now\(\)\s*::\s*date",
    re.IGNORECASE,
)

# Where the OS clock is right, and why (shared/clock.py's docstring says the same).
ALLOWED = {
    "shared/clock.py": {"*"},  # the one source
    "shared/auth.py": {"time.time"},  # JWT exp/iat: epoch seconds
    "shared/http.py": {"time.time"},  # the bureau's signature skew: epoch seconds
    "tests/unit/shared/test_auth.py": {"time.time"},  # tokens about to expire
    "tests/integration/jobs/test_bureau_http.py": {"time.time"},  # signs as the bureau does
    "tests/e2e/conftest.py": {"time.time"},  # signs as the bureau does (a Unix timestamp)
    "tests/unit/test_wall_clock.py": {"sql"},  # this file names the patterns
}


def wall_clock_reads(source):
    """``[(line, what)]``: calls that read the wall clock, and SQL date functions."""
    tree = ast.parse(source)
    imported = {}  # local name → (module, attribute) for `from datetime import date` etc.
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("datetime", "time"):
            for alias in node.names:
                imported[alias.asname or alias.name] = (node.module, alias.name)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            pair = _called(node.func, imported)
            if pair in WALL_CLOCK:
                found.append((node.lineno, ".".join(pair)))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL_DATE.search(node.value)
        ):
            found.append((node.lineno, "sql"))
    return sorted(found)


def _called(func, imported):
    """The (module-ish, attribute) a call names: ``dt.date.today`` → ("date", "today"),
    ``time()`` after ``from time import time`` → ("time", "time")."""
    if isinstance(func, ast.Attribute):
        owner = func.value
        if isinstance(owner, ast.Attribute):
            return owner.attr, func.attr
        if isinstance(owner, ast.Name):
            module, name = imported.get(owner.id, (None, owner.id))
            return (name if module else owner.id), func.attr
    if isinstance(func, ast.Name) and func.id in imported:
        module, name = imported[func.id]
        return module, name
    return None


def sources():
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path


@pytest.mark.parametrize(
    "snippet,expected",
    [
        ("import datetime as dt\ndt.date.today()", [(2, "date.today")]),
        (
            "from datetime import datetime, timezone\ndatetime.now(timezone.utc)",
            [(2, "datetime.now")],
        ),
        ("import datetime\ndatetime.datetime.utcnow()", [(2, "datetime.utcnow")]),
        ("from datetime import date as D\nD.today()", [(2, "date.today")]),
        ("import time\ntime.time()", [(2, "time.time")]),
        ("from time import time\ntime()", [(2, "time.time")]),
        ("cur.execute('SELECT 1 WHERE due_on <= CURRENT_DATE')", [(1, "sql")]),
        ("self.clock.now(); self.clock.today(); time.monotonic()", []),
        ("cur.execute('UPDATE outbox SET published_at = now()')", []),
    ],
)
def test_the_checker_finds_each_way_of_reading_the_wall_clock(snippet, expected):
    assert wall_clock_reads(snippet) == expected


def test_business_time_comes_only_from_shared_clock():
    offenders = []
    for name, path in sources():
        allowed = ALLOWED.get(name, set())
        if "*" in allowed:
            continue
        offenders += [
            f"{name}:{line}: {what}"
            for line, what in wall_clock_reads(path.read_text(encoding="utf-8"))
            if what not in allowed
        ]
    assert offenders == [], "read the bureau's clock (shared.clock) instead:\n" + "\n".join(
        offenders
    )


def test_migrations_ask_the_database_for_no_date():
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for tree in ("services", "shared")
        for path in (ROOT / tree).rglob("*.sql")
        for match in SQL_DATE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
