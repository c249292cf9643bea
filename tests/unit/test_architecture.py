"""Architecture: the shape every service keeps (issue 18, docs/architecture.md). Walks the
source (AST, nothing imported) of services, shared and vetctl and checks four rules:

- a domain module (``services/*/domain.py``, ``*_domain.py``) imports nothing of nameko,
  psycopg2, marshmallow or yaml and touches no file (``open()``, ``os``, ``pathlib``...);
- SQL text lives only in store modules (``services/*/store.py``, ``*_store.py``) and
  ``shared/`` (migrations are ``.sql`` files; tests and bench read the databases freely);
- no service imports another (``services.jobs`` importing ``services.registry``);
- vetctl and shared import nothing from ``services``.

A ratchet: ``KNOWN`` lists today's violations, each with what moves where. A new violation
fails, and so does an entry that no longer occurs: delete it in the change that fixes it,
so the list only shrinks. Dynamic imports (``importlib.import_module(f"services.{name}...")``,
how vetctl finds each service's class for ``migrate``) are not imports here.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DOMAIN_FORBIDDEN = (
    "nameko",
    "psycopg2",
    "marshmallow",
    "yaml",
    # the file system
    "os",
    "pathlib",
    "io",
    "shutil",
    "glob",
    "tempfile",
)
FILE_METHODS = ("read_text", "read_bytes", "write_text", "write_bytes")
SQL = re.compile(r"\b(SELECT|INSERT INTO|UPDATE [\w.\"]+ SET|DELETE FROM)\b")

# (rule, module, what): today's violations. Remove an entry when its fix lands.
KNOWN: set[tuple[str, str, str]] = set()  # none left (issue 18); a new one needs a reason


def imported_modules(source, package=""):
    """``[(line, module)]``: every module an import statement names, anywhere in the file
    (functions too); ``from a import b`` gives ``a.b`` (b may be a module), relative
    imports are resolved against ``package``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(part for part in [*parent, base] if part)
            found += [(node.lineno, f"{base}.{alias.name}".strip(".")) for alias in node.names]
    return sorted(found)


def domain_impurities(source):
    """``[(line, what)]``: imports of the frameworks and the file system, ``open()`` and
    pathlib's reads and writes."""
    found = [
        (line, module.split(".")[0])
        for line, module in imported_modules(source)
        if module.split(".")[0] in DOMAIN_FORBIDDEN
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id == "open":
                found.append((node.lineno, "open()"))
            elif isinstance(node.func, ast.Attribute) and node.func.attr in FILE_METHODS:
                found.append((node.lineno, f".{node.func.attr}()"))
    return sorted(found)


def sql_texts(source):
    """``[(line, text)]``: string constants (f-string parts too) that read as SQL;
    docstrings are prose and are skipped."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return sorted(
        (node.lineno, SQL.search(node.value).group(0))
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and SQL.search(node.value)
    )


def modules(*trees):
    for tree in trees:
        for path in sorted((ROOT / tree).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def package_of(name):
    return ".".join(name.removesuffix(".py").split("/")[:-1])


def is_domain(name):
    return name.startswith("services/") and (name.endswith(("/domain.py", "_domain.py")))


def is_store(name):
    return name.startswith("services/") and (name.endswith(("/store.py", "_store.py")))


def violations():
    """Every violation of the four rules as ``(rule, module, what)``, with the lines."""
    found = {}
    for name, source in modules("services", "shared", "vetctl"):
        hits = []
        if is_domain(name):
            hits += [("domain", line, what) for line, what in domain_impurities(source)]
        if name.startswith(("services/", "vetctl/")) and not is_store(name):
            hits += [("sql", line, "sql") for line, _ in sql_texts(source)]
        for line, module in imported_modules(source, package_of(name)):
            target = module.split(".")
            if target[0] != "services" or len(target) < 2:
                continue
            if name.startswith("services/") and target[1] != name.split("/")[1]:
                hits.append(("service", line, ".".join(target[:2])))
            elif name.startswith(("vetctl/", "shared/")):  # services.<name>.<module>
                hits.append((name.split("/")[0], line, ".".join(target[:3])))
        for rule, line, what in hits:
            lines = found.setdefault((rule, name, what), [])
            if line not in lines:
                lines.append(line)
    return found


@pytest.mark.parametrize(
    "snippet,expected",
    [
        ("import yaml\nfrom marshmallow import Schema", [(1, "yaml"), (2, "marshmallow")]),
        ("from nameko.rpc import rpc\nimport psycopg2.extras", [(1, "nameko"), (2, "psycopg2")]),
        ("import os\nfrom pathlib import Path", [(1, "os"), (2, "pathlib")]),
        (
            "def plans():\n    import yaml\n    return open('p.yaml').read()",
            [(2, "yaml"), (3, "open()")],
        ),
        ("PLANS.read_text(encoding='utf-8')", [(1, ".read_text()")]),
        (
            "from dataclasses import dataclass\nfrom shared.contracts import Event\n"
            "import datetime as dt\nfrom decimal import Decimal",
            [],
        ),
    ],
)
def test_the_checker_finds_what_a_domain_module_must_not_do(snippet, expected):
    assert domain_impurities(snippet) == expected


@pytest.mark.parametrize(
    "snippet,expected",
    [
        ("cur.execute('SELECT id FROM jobs.postings WHERE id = %s', (i,))", [(1, "SELECT")]),
        ('sql = ("INSERT INTO loans.loans (id) "\n       "VALUES (%s)")', [(1, "INSERT INTO")]),
        ("cur.execute(f'UPDATE {table} SET x = 1')", []),  # the table is a parameter: unseen
        (
            "cur.execute('UPDATE jobs.postings SET hired = hired + 1')",
            [(1, "UPDATE jobs.postings SET")],
        ),
        ("cur.execute(f'DELETE FROM registry.cards WHERE id = {i}')", [(1, "DELETE FROM")]),
        ("def f():\n    '''SELECT the best match, then INSERT INTO the list.'''", []),
        ("log.info('select from the list'); STATUS = 'delete from queue'", []),
    ],
)
def test_the_checker_finds_sql_text(snippet, expected):
    assert sql_texts(snippet) == expected


@pytest.mark.parametrize(
    "snippet,package,expected",
    [
        (
            "from services.registry.timeline import SUMMARIES",
            "vetctl",
            [(1, "services.registry.timeline.SUMMARIES")],
        ),
        (
            "def f():\n    import services.loans.domain as d",
            "services.jobs",
            [(2, "services.loans.domain")],
        ),
        (
            "from .store import Store\nfrom .. import loans",
            "services.jobs",
            [(1, "services.jobs.store.Store"), (2, "services.loans")],
        ),
        ("from shared.db import Database", "services.jobs", [(1, "shared.db.Database")]),
    ],
)
def test_the_checker_resolves_every_kind_of_import(snippet, package, expected):
    assert imported_modules(snippet, package) == expected


def test_the_checker_sees_the_sql_in_every_services_store():
    services = {
        path.name for path in (ROOT / "services").iterdir() if (path / "service.py").is_file()
    }
    with_sql = {
        name.split("/")[1]
        for name, source in modules("services")
        if is_store(name) and sql_texts(source)
    }
    assert services and with_sql == services


@pytest.fixture(scope="module")
def found():
    return violations()


@pytest.mark.parametrize(
    "rule,fix",
    [
        ("domain", "keep it pure: frameworks and files belong beside the dependency that uses it"),
        ("sql", "move the SQL into the service's store module"),
        ("service", "services talk over events and RPC, never by import; shared/ holds the rest"),
        ("vetctl", "vetctl talks to the services over RPC and events; shared code goes in shared/"),
        ("shared", "shared/ is below the services: move what it needs into shared/"),
    ],
    ids=lambda value: value if " " not in value else "",
)
def test_no_new_violation_and_no_stale_allowance(found, rule, fix):
    new = sorted(
        f"{name}:{','.join(map(str, found[key]))}: {what}"
        for key in found
        if key[0] == rule and key not in KNOWN
        for _, name, what in [key]
    )
    stale = sorted(
        f"{name}: {what}"
        for rule_, name, what in KNOWN
        if rule_ == rule and (rule_, name, what) not in found
    )
    assert new == [], f"new {rule} violations ({fix}):\n" + "\n".join(new)
    assert stale == [], f"fixed, so delete from KNOWN in {Path(__file__).name}:\n" + "\n".join(
        stale
    )


def test_every_known_entry_names_a_rule_this_file_checks():
    assert {rule for rule, _, _ in KNOWN} <= {"domain", "sql", "service", "vetctl", "shared"}
    assert all((ROOT / name).is_file() for _, name, _ in KNOWN)
