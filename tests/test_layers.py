"""The package's layers: no import cycle between modules, and no layer importing one above it.

Reads every module of ``acq_spark`` with :mod:`ast` (imports inside functions count too: a cycle through
a deferred import is still a cycle) and checks the order written down in ARCHITECTURE.md.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from acq_spark import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "acq_spark"

# Lowest first. A module may import its own layer and the layers below it, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("acq_spark", "acq_spark.errors", "acq_spark.resources"),
    ("acq_spark.config",),
    ("acq_spark.platform",),
    ("acq_spark.ingest",),
    ("acq_spark.features", "acq_spark.tree"),
    ("acq_spark.models",),
    ("acq_spark.training",),
    ("acq_spark.scoring",),
    ("acq_spark.allocation", "acq_spark.evaluation", "acq_spark.experiment", "acq_spark.simulate"),
    ("acq_spark.report",),
    ("acq_spark.pipeline", "acq_spark.cluster"),
)


def module_name(path: Path) -> str:
    """``acq_spark/ingest/days.py`` → ``acq_spark.ingest.days``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, path: Path, modules: set[str]) -> set[str]:
    """The modules of the package that ``name`` imports (``from pkg import sub`` names the submodule)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imported(name, path, set(modules)) for name, path in modules.items()}


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of the longest prefix naming ``module``'s package."""
    best, level = "", None
    for index, members in enumerate(LAYERS):
        for member in members:
            if (module == member or module.startswith(member + ".")) and len(member) > len(best):
                best, level = member, index
    if level is None:
        raise AssertionError(f"{module} is in no layer: add its package to LAYERS (and ARCHITECTURE.md)")
    return level


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_walk_sees_imports_of_every_form():
    graph = import_graph()
    assert "acq_spark.platform.fs" in graph["acq_spark.platform.lock"]  # from acq_spark.platform import fs
    assert "acq_spark.ingest.days" in graph["acq_spark.ingest.validation"]  # from acq_spark.ingest.days import …
    assert "acq_spark.models.factory" in graph["acq_spark.training.artifact"]  # import acq_spark.models.factory


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_no_layer_imports_a_higher_one():
    upward = [
        f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)})"
        for module, targets in import_graph().items()
        for target in sorted(targets)
        if layer_of(target) > layer_of(module)
    ]
    assert upward == []


def test_the_top_level_holds_packages_and_at_most_three_modules():
    modules = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(modules) <= 3, modules


@pytest.mark.parametrize("package", ["config", "platform", "ingest", "pipeline"])
def test_a_layer_says_what_it_holds_and_exports_its_face(package):
    path = PACKAGE / package / "__init__.py"
    tree = ast.parse(path.read_text())
    assert ast.get_docstring(tree), f"{package} has no docstring"
    exported = [n for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "__all__"]
    assert exported, f"{package} has no __all__"


STAGES = {
    "simulate": "run_simulation",
    "features": "run_build_features",
    "tree": "run_build_tree",
    "training": "run_training",
    "scoring": "run_scoring",
    "allocation": "run_allocate",
    "evaluation": "run_table4",
    "experiment": "run_experiment_measure",
}


@pytest.mark.parametrize("package", sorted(STAGES))
def test_a_stage_exports_its_run_function_in_the_one_shape_and_every_name_of_its_face(package):
    module = importlib.import_module(f"acq_spark.{package}")
    assert ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text())), f"{package}: no docstring"
    assert STAGES[package] in module.__all__
    for name in module.__all__:
        assert getattr(module, name) is not None, f"acq_spark.{package}.{name}"
    run = getattr(module, STAGES[package])
    assert list(inspect.signature(run).parameters)[:3] == ["spark", "cfg", "timer"], run.__qualname__
    with pytest.raises(AttributeError, match=f"module 'acq_spark.{package}' has no attribute 'nothing'"):
        module.nothing


def spelled_locations(path: Path) -> list[str]:
    """Warehouse locations ``path`` spells as a literal: ``cfg.table("x")``, ``table_path(w, "x")`` or an
    f-string that starts with text (``f"x/{day}"``), instead of a name from ``platform.catalog``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "table" and node.args:
            arg = node.args[0]
        elif isinstance(func, ast.Name) and func.id == "table_path" and len(node.args) == 2:
            arg = node.args[1]
        else:
            continue
        literal = isinstance(arg, ast.Constant) and arg.value != ""  # "": the warehouse itself
        literal |= isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant)
        if literal:
            found.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_every_warehouse_location_is_named_in_the_catalog():
    # config (below the platform layer) spells the input's default location once: creative_daily
    sources = [p for p in [*PACKAGE.rglob("*.py"), *(PROJECT_ROOT / "jobs").glob("*.py")] if p.name != "schema.py"]
    spelled = [line for path in sorted(sources) for line in spelled_locations(path)]
    assert not spelled, "name these in acq_spark/platform/catalog.py:\n" + "\n".join(spelled)
