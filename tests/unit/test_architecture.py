"""The shape of the code: stages as subpackages, imports only downward, no circle, small modules.

Every import counts, also those inside functions and under ``if TYPE_CHECKING:``: a circle hidden
in a function still ties two modules together. Importing a module also runs its packages'
``__init__``, so a module depends on its parent packages too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]

#: The stages, bottom to top: a module may import its own stage or a stage below, never above.
LAYERS = (
    ("errors", "storage", "native", "progress", "config", "presets"),
    ("cascade",),
    ("parallel",),
    ("data",),
    ("features",),
    ("models",),
    ("workspace",),
    ("training",),
    ("prediction",),
    ("tagging",),
    ("evaluation",),
    ("viz",),
    ("api_trees", "api_predict", "api_tag", "api"),
    ("cli",),
)
STAGE_RANK = {stage: rank for rank, stages in enumerate(LAYERS) for stage in stages}
MAX_LINES = 350


def module_name(path: Path, top: Path) -> str:
    parts = list(path.relative_to(top.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, name: str, package: str) -> set[str]:
    """Modules of ``package`` that ``path`` imports anywhere (module level, functions, TYPE_CHECKING)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in found if m == package or m.startswith(package + ".")}


def import_graph(package: str) -> nx.DiGraph:
    """Modules of ``package`` and the imports between them, parent packages included."""
    top = ROOT / package
    modules = {module_name(p, top): p for p in top.rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        parents = [".".join(name.split(".")[:i]) for i in range(1, len(name.split(".")))]
        for target in imported(path, name, package) | set(parents):
            if target in modules and target != name:
                graph.add_edge(name, target)
    return graph


@pytest.mark.parametrize("package", ["hiergenre", "benchmarks"])
def test_no_import_circle(package):
    cycles = [" -> ".join([*cycle, cycle[0]]) for cycle in nx.simple_cycles(import_graph(package))]
    assert not cycles, "import circles:\n" + "\n".join(sorted(cycles)[:20])


def stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_imports_point_down_the_stages():
    graph = import_graph("hiergenre")
    upward = [
        f"{a} -> {b}"
        for a, b in graph.edges
        if stage(a) in STAGE_RANK and stage(b) in STAGE_RANK and STAGE_RANK[stage(b)] > STAGE_RANK[stage(a)]
    ]
    assert not upward, "imports that point up the stages:\n" + "\n".join(sorted(upward))


def test_every_module_belongs_to_a_stage():
    unplaced = sorted(m for m in import_graph("hiergenre").nodes if stage(m) is not None and stage(m) not in STAGE_RANK)
    assert unplaced == [], "modules outside every stage (add them to LAYERS or move them)"


def test_the_checker_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "mod.py"
    module.write_text("def f():\n    from pkg.other import thing\n\nif False:\n    import pkg.third\n")
    assert imported(module, "pkg.mod", "pkg") == {"pkg.other", "pkg.other.thing", "pkg.third"}


def test_modules_stay_small():
    long = {
        str(p.relative_to(ROOT)): n
        for folder in ("hiergenre", "benchmarks")
        for p in (ROOT / folder).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines"
    assert len((ROOT / "hiergenre" / "api.py").read_text(encoding="utf-8").splitlines()) < 200
