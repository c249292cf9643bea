"""vetctl is a client of the services: it imports shared code, never a service's."""

import ast
from pathlib import Path

VETCTL = Path(__file__).resolve().parents[3] / "vetctl"


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_vetctl_imports_no_service_module():
    files = sorted(VETCTL.rglob("*.py"))
    assert files
    offenders = [
        f"{path.relative_to(VETCTL.parent)}: {module}"
        for path in files
        for module in imported_modules(path)
        if module == "services" or module.startswith("services.")
    ]
    assert offenders == []
