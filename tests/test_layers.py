"""The layers of DESIGN.md, enforced: every module's imports (also those inside functions)
and every template's ``{% load %}`` and ``{% url %}`` are walked; an import of a feature app
from ``portal/`` core, an upward import between apps or a cycle fails.

    portal core  <-  devices  <-  contracts  <-  billing
         ^              ^            ^
         +---- gdpr, portal/support (use core, devices, contracts; nothing uses them back)

Run ``pytest tests/test_layers.py -s`` to print the dependency graph found.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"

CORE = "portal"
#: Which layers each layer may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "portal": set(),
    "devices": {"portal"},
    "contracts": {"portal", "devices"},
    "billing": {"portal", "devices", "contracts"},
    "gdpr": {"portal", "devices", "contracts"},
    "support": {"portal", "devices", "contracts"},
}
#: The project package's wiring names every app by design: the root URLconf includes their
#: URLs (as strings) and settings list them in INSTALLED_APPS. Neither imports an app module.
WIRING = {"portal/urls.py"}


def layer_of_module(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "portal" and len(parts) > 1 and parts[1] == "support":
        return "support"
    return parts[0] if parts[0] in ALLOWED else None


def layer_of_path(path: Path) -> str | None:
    return layer_of_module(".".join(path.relative_to(ROOT).with_suffix("").parts))


def _imports(path: Path) -> list[tuple[int, str]]:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module is None:  # "from . import mail" imports the module portal.mail
                found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, target))
    return found


def _python_files():
    for top in ALLOWED:
        if top == "support":
            continue
        yield from sorted((ROOT / top).rglob("*.py"))


LOAD = re.compile(r"{%\s*load\s+([^%]+?)\s*%}")
URL = re.compile(r"""{%\s*url\s+['"]([\w-]+):""")


def _tag_libraries() -> dict[str, str]:
    """Template tag library name -> the layer that defines it."""
    libraries = {}
    for top in ALLOWED:
        for path in (ROOT / top).rglob("templatetags/*.py"):
            if path.name != "__init__.py":
                libraries[path.stem] = layer_of_path(path)
    return libraries


def template_layer(path: Path) -> str:
    """A template belongs to the app named by its first folder; shared folders (the base
    layout, accounts, allauth, admin overrides of core models, error pages, e-mails of core)
    belong to core."""
    parts = path.relative_to(TEMPLATES).parts
    first = parts[0]
    if first == "admin" and len(parts) > 2 and parts[1] in ALLOWED:
        return parts[1]
    if first == "email":
        return _EMAIL_OWNERS.get(path.name.split("_")[0], CORE)
    return first if first in ALLOWED else CORE


#: E-mail templates live in one folder; their first word names the app that sends them.
_EMAIL_OWNERS = {"booking": "contracts", "contract": "contracts", "device": "devices"}


def dependency_edges() -> dict[tuple[str, str], list[str]]:
    """(from layer, to layer) -> where, over Python modules and templates."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in _python_files():
        source = layer_of_path(path)
        relative = path.relative_to(ROOT).as_posix()
        for line, target in _imports(path):
            target_layer = layer_of_module(target)
            if target_layer and target_layer != source:
                edges[(source, target_layer)].append(f"{relative}:{line} imports {target}")
    libraries = _tag_libraries()
    for path in sorted(TEMPLATES.rglob("*.*")):
        source = template_layer(path)
        relative = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        for names in LOAD.findall(text):
            for name in names.split():
                target_layer = libraries.get(name)
                if target_layer and target_layer != source:
                    edges[(source, target_layer)].append(f"{relative} loads {name}")
        for namespace in URL.findall(text):
            if namespace in ALLOWED and namespace != source:
                edges[(source, namespace)].append(f"{relative} links to {namespace}:")
    return edges


def test_no_layer_imports_what_it_may_not():
    wrong = [
        where
        for (source, target), places in dependency_edges().items()
        if target not in ALLOWED[source]
        for where in places
        if where.split(":")[0] not in WIRING
    ]
    assert not wrong, "imports against the layers of DESIGN.md:\n" + "\n".join(wrong)


def test_the_dependency_graph_has_no_cycle():
    graph: dict[str, set[str]] = defaultdict(set)
    for (source, target), places in dependency_edges().items():
        if any(where.split(":")[0] not in WIRING for where in places):
            graph[source].add(target)
    print("\ndependencies between apps:")
    for source in sorted(ALLOWED):
        print(f"  {source:10} -> {', '.join(sorted(graph[source])) or '(nothing)'}")
    seen: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if seen.get(node) == 1:
            pytest.fail("cycle: " + " -> ".join(path + [node]))
        if seen.get(node) == 2:
            return
        seen[node] = 1
        for target in sorted(graph[node]):
            visit(target, path + [node])
        seen[node] = 2

    for node in sorted(ALLOWED):
        visit(node, [])


def test_the_walk_sees_imports_inside_functions_and_relative_ones(tmp_path, monkeypatch):
    """The checker itself: a lazy import in a function body and a relative import count."""
    package = tmp_path / "portal"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = package / "lazy.py"
    module.write_text("def f():\n    from contracts.services import x\n"
                      "from . import mail\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert sorted(_imports(module)) == [(2, "contracts.services"), (3, "portal.mail")]
    assert layer_of_module("contracts.services") == "contracts"
    assert layer_of_module("portal.support.models") == "support"
