"""The package's floors: every import points down the data flow, and no module imports itself back.

Reads the imports of every module of ``src/hopscreen`` (top level, inside functions and under
``TYPE_CHECKING`` alike) and fails on an import circle or on an import of a higher floor.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hopscreen

ROOT = Path(hopscreen.__file__).parent

#: The floors, lowest first (README "Layout"): a package may import its own floor's package
#: and any lower floor, never a sibling on its floor or anything above.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("schemas", "settings"),  # settings: hopscreen.settings, the site settings
    ("data",),
    ("candidates",),
    ("hops",),
    ("graphs", "features"),
    ("models",),
    ("inference", "training"),
    ("evaluation", "selection", "verification", "store", "registry"),
    ("screening", "report"),
    ("workflow",),
    ("benchmarks",),
    ("cli",),
    ("__main__",),
)
FLOOR_OF = {pkg: level for level, pkgs in enumerate(FLOORS) for pkg in pkgs}


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def floor_package(module: str) -> str:
    """The second part of a dotted name (``hopscreen.hops.band`` -> ``hops``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``importer -> imported`` for every import of a floor at or above the importer's."""
    wrong = []
    for module, targets in graph.items():
        here = floor_package(module)
        for target in targets:
            there = floor_package(target)
            if here and there and here != there and FLOOR_OF[there] >= FLOOR_OF[here]:
                wrong.append(f"{module} -> {target}")
    return sorted(wrong)


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle a depth-first walk of the import graph closes."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return circles


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imported_modules(name, path, set(files)) for name, path in files.items()}


def test_every_package_has_a_floor(graph: dict[str, set[str]]) -> None:
    packages = {floor_package(m) for m in graph} - {""}
    assert packages <= set(FLOOR_OF), f"packages without a floor: {packages - set(FLOOR_OF)}"


def test_no_import_points_up_or_sideways(graph: dict[str, set[str]]) -> None:
    wrong = upward_imports(graph)
    assert not wrong, "imports of a floor at or above the importer's:\n" + "\n".join(wrong)


def test_no_import_circle(graph: dict[str, set[str]]) -> None:
    circles = import_circles(graph)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_imports_are_read_wherever_they_are_written(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import hopscreen.schemas.base\n"
        "if TYPE_CHECKING:\n"
        "    from hopscreen.hops.hop import Hop\n"
        "def f():\n"
        "    from hopscreen.models import shipped\n"
        "    from . import structure\n"
    )
    known = {
        "hopscreen.schemas.base",
        "hopscreen.schemas.structure",
        "hopscreen.hops.hop",
        "hopscreen.models",
        "hopscreen.models.shipped",
    }
    assert imported_modules("hopscreen.schemas.mod", source, known) == known


def test_the_checks_report_a_planted_circle_and_upward_import() -> None:
    planted = {
        "hopscreen.schemas.a": {"hopscreen.cli.b"},
        "hopscreen.cli.b": {"hopscreen.schemas.a"},
        "hopscreen.graphs.c": {"hopscreen.features.d"},
        "hopscreen.features.d": set(),
    }
    assert upward_imports(planted) == [
        "hopscreen.graphs.c -> hopscreen.features.d",
        "hopscreen.schemas.a -> hopscreen.cli.b",
    ]
    assert import_circles(planted) == [
        ["hopscreen.cli.b", "hopscreen.schemas.a", "hopscreen.cli.b"]
    ]
