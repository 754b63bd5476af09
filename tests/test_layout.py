"""The layout of the code: no import cycle among analytics/ and ui/ modules, no Streamlit in
analytics/, no analytics/ module over MAX_LINES lines (except an allow-list that only shrinks).

Imports are read from the source (ast), at any depth: an import inside a function is still a
dependency, and a cycle hidden that way is still a cycle for a reader.
"""
from __future__ import annotations

import ast
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("analytics", "ui")
MAX_LINES = 400



def _module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the packages (a package is its __init__)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imported(node: ast.AST, module: str, is_package: bool, modules: dict[str, Path]) -> set[str]:
    """The modules of ours an import statement loads (a name from a package: its submodule when
    there is one, else the package)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    if not isinstance(node, ast.ImportFrom):
        return set()
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    targets = set()
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        if sub in modules:
            targets.add(sub)
        elif source in modules:
            targets.add(source)
    return targets


def import_graph() -> dict[str, set[str]]:
    modules = _module_files()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges = set()
        for node in ast.walk(tree):
            edges |= _imported(node, name, path.name == "__init__.py", modules)
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_reads_imports_inside_functions_and_relative_ones():
    graph = import_graph()
    assert "ui.state" in graph["ui.figures"]
    assert "analytics.stats.fisher" in graph["analytics.stats.rxc"]


def test_no_import_cycle_among_analytics_and_ui():
    assert cycles(import_graph()) == []


def test_analytics_does_not_import_streamlit():
    offenders = []
    for name, path in _module_files().items():
        if not name.startswith("analytics"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def _line_counts() -> dict[str, int]:
    return {str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
            for path in sorted((ROOT / "analytics").rglob("*.py"))}


def test_no_analytics_module_over_the_line_limit():
    over = {path: n for path, n in _line_counts().items() if n > MAX_LINES}
    assert over == {}, f"modules over {MAX_LINES} lines: split them"
