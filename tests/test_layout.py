"""The package's layers: each subpackage imports only the layers below it, and nothing imports in a circle.

Imports inside ``if TYPE_CHECKING:`` are annotations, not dependencies, and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "seqgan_core"

# Bottom to top; a module may import its own layer or any layer below it.
LAYERS = [
    {"errors", "options", "_version", "advice"},
    {"models"},
    {"evaluation"},
    {"rules"},
    {"runtime"},
    {"plugins"},
    {"engine"},
    {"io"},
    {"api", "cli", "session", "__main__", "__init__"},
]


def layer_of(module: str) -> int:
    head = module.split(".")[1] if "." in module else "__init__"
    for i, names in enumerate(LAYERS):
        if head in names:
            return i
    raise AssertionError(f"{module} is in no layer of tests/test_layout.py; add its subpackage to LAYERS")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path) -> set[str]:
    """seqgan_core modules this file imports at run time (top level or inside functions)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                continue
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    name = ".".join(base + ([child.module] if child.module else []))
                else:
                    name = child.module or ""
                if name.startswith("seqgan_core"):
                    for alias in child.names:  # `from seqgan_core.io import run` imports a module
                        full = f"{name}.{alias.name}"
                        target = PACKAGE.parent / Path(*full.split("."))
                        found.add(full if target.with_suffix(".py").exists() or target.is_dir() else name)
            elif isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.startswith("seqgan_core"))
            visit(child)

    visit(tree)
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}


def test_every_import_stays_on_its_floor_or_below():
    ups = []
    for module, deps in graph().items():
        for dep in deps:
            if dep == "seqgan_core._version" or dep == "seqgan_core":
                continue
            if layer_of(dep) > layer_of(module):
                ups.append(f"{module} imports {dep}")
    assert not ups, "imports that run back up a layer:\n" + "\n".join(sorted(ups))


def test_no_import_circles():
    edges = graph()
    modules = set(edges)

    def resolve(dep: str) -> str | None:  # `seqgan_core.io.run.CONFIG_FILE` style names fall back to their module
        while dep and dep not in modules:
            dep = dep.rpartition(".")[0]
        return dep or None

    adjacency = {m: {r for d in deps if (r := resolve(d)) and r != m} for m, deps in edges.items()}
    state: dict[str, int] = {}
    cycles = []

    def walk(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in adjacency[node]:
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue  # a package and its own modules
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                walk(nxt, stack)
        stack.pop()
        state[node] = 2

    for m in sorted(modules):
        if m not in state:
            walk(m, [])
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_the_layer_check_sees_an_upward_import(tmp_path):
    # the check itself can fail: a rules module importing the engine is caught
    bad = tmp_path / "seqgan_core" / "rules"
    bad.mkdir(parents=True)
    (bad / "x.py").write_text("from seqgan_core.engine import training\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "seqgan_core"
    try:
        deps = imports(bad / "x.py")
    finally:
        PACKAGE = saved
    assert layer_of(next(iter(deps))) > layer_of("seqgan_core.rules.x")
