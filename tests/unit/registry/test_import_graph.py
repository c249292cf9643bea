"""registry's modules import each other without a cycle, read from their source: no module
needs another to be half-imported (the shims that hid one are gone for good)."""

import ast
from pathlib import Path

REGISTRY = Path(__file__).resolve().parents[3] / "services" / "registry"
PACKAGE = "services.registry"


def imports_within_registry(path):
    """Names of the registry modules that ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                found.update(alias.name for alias in node.names)
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found.update(
                alias.name.split(".")[2]
                for alias in node.names
                if alias.name.startswith(PACKAGE + ".")
            )
    return found


def registry_graph():
    modules = {path.stem: path for path in REGISTRY.glob("*.py") if path.stem != "__init__"}
    return {name: imports_within_registry(path) & modules.keys() for name, path in modules.items()}


def a_cycle(graph):
    """One cycle as a list of module names, or None."""
    state = {}

    def visit(name, trail):
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                return trail[trail.index(target) :] + [target]
            if target not in state:
                cycle = visit(target, trail + [target])
                if cycle:
                    return cycle
        state[name] = "done"
        return None

    for name in sorted(graph):
        if name not in state:
            cycle = visit(name, [name])
            if cycle:
                return cycle
    return None


def test_registry_modules_import_each_other_without_a_cycle():
    graph = registry_graph()
    assert {"store", "bulk_store", "search_store", "card_store"} <= graph.keys()
    assert a_cycle(graph) is None


def test_the_stores_take_the_cards_columns_from_card_store():
    graph = registry_graph()
    for store in ("store", "bulk_store", "search_store"):
        assert "card_store" in graph[store], store
    assert not graph["bulk_store"] & {"store", "search_store"}
    assert not graph["search_store"] & {"store", "bulk_store"}


def test_the_cycle_finder_finds_a_cycle():
    assert a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert a_cycle({"a": {"b"}, "b": set()}) is None
