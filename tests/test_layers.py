"""The package's architecture, read from its import graph with ``ast``.

Layers, lowest first (CONTRIBUTING.md, "The map of reglab"):

0. ``reglab.params``, ``reglab.files``: the one error type and declarations; staged writes.
1. the lesson plumbing the notebooks import: the package ``reglab`` itself and its top-level
   modules (``session``, ``repro``, ``data``, ``tf1``, ``penalties``, ``easynet``, ``plots``,
   ``checks``, ``optimizers``);
2. three products side by side, each importing only itself and the layers below:
   ``reglab.sweep``, ``reglab.explorer``, ``reglab.doctor``;
3. ``reglab.classroom``: workbook structure, student edition, grading, scaffold, the book (it
   may use the explorer, whose static pages the book carries);
4. ``reglab.cli`` and ``reglab.__main__``: the ``reglab`` command.

Every import counts, also one inside a function (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "reglab"
BASE = {"reglab.params", "reglab.files"}
PRODUCTS = ("reglab.sweep", "reglab.explorer", "reglab.doctor")
#: The most lines a module may have without saying why in its docstring ("Size: ...").
MAX_LINES = 300


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int:
    if module in BASE:
        return 0
    if module in ("reglab.cli", "reglab.__main__"):
        return 4
    if module.startswith("reglab.classroom"):
        return 3
    if module.startswith(PRODUCTS):
        return 2
    return 1


def product(module: str) -> str | None:
    return next((p for p in PRODUCTS if module == p or module.startswith(p + ".")), None)


def imports(module: str) -> set[str]:
    """The ``reglab`` modules that ``module`` imports, anywhere in its source."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "reglab")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "reglab":
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in MODULES else source)
    found.discard(module)
    return {m for m in found if m in MODULES}


GRAPH = {module: imports(module) for module in MODULES}


def _allowed(importer: str, imported: str) -> bool:
    if layer(imported) < layer(importer):
        return True
    if layer(imported) > layer(importer):
        return False
    if layer(importer) == 2:  # side by side: a product imports only itself
        return product(importer) == product(imported)
    return True


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_higher_layer_or_a_sibling_product(module):
    wrong = sorted(m for m in GRAPH[module] if not _allowed(module, m))
    assert not wrong, f"{module} (layer {layer(module)}) imports {wrong}"


def test_the_import_graph_has_no_cycle():
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for nxt in sorted(GRAPH[module]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_long_module_says_why(module):
    path = MODULES[module]
    lines = len(path.read_text(encoding="utf-8").splitlines())
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert lines <= MAX_LINES or "Size:" in docstring, (
        f"{module} has {lines} lines: split it, or say why in its docstring ('Size: ...')")


def test_contributing_maps_every_module_and_only_modules_that_exist():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    mapped = set(re.findall(r"`(reglab/[\w/]+\.py)`", text))
    files = {str(p.relative_to(ROOT)) for p in MODULES.values()
             if p.name not in ("__init__.py", "__main__.py")}
    assert not files - mapped, f"CONTRIBUTING.md's map misses {sorted(files - mapped)}"
    assert not mapped - files, f"CONTRIBUTING.md's map names missing files {sorted(mapped - files)}"


def test_the_layer_rule_is_what_it_says():
    assert _allowed("reglab.sweep.run", "reglab.data")
    assert not _allowed("reglab.data", "reglab.sweep.run")
    assert not _allowed("reglab.explorer.engine", "reglab.sweep.compiled_loop")
    assert _allowed("reglab.classroom.book", "reglab.explorer.static")
    assert not _allowed("reglab.params", "reglab.data")
