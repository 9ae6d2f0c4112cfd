"""The shape of the source tree (STYLE: "imports point one way", "no module over 700 lines",
"small modules named for what they hold, grouped by domain"), read from the code with `ast`.

Layers, from the bottom: the core (domain, units, factors, rules, engine, io, store), then
services, then the interfaces (api, web, cli). `openpcf` itself (`__version__`) and
`openpcf.config` (environment settings) may be read from anywhere above domain.

The core's own order, as it is: domain imports nothing of ours; units, factors, rules and engine
build on domain (factors and rules may read units, rules may read factors); io reads and writes
files of all of them but computes nothing (no engine); store persists domain objects only.

Between interfaces, two imports are allowed, both of them composition, not logic: the API
application mounts the web pages (`api/app.py` → `web.routes`: one ASGI app serves both), and
`openpcf serve` starts that application (`cli/platform.py` → `api.app`). The web pages do not
call the API's routers, nor the API the CLI.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "openpcf"
MAX_LINES = 700

BASE = {"openpcf", "config"}  # `openpcf.__version__`, `openpcf.config`
CORE: dict[str, set[str]] = {
    "domain": set(),
    "units": {"domain"},
    "factors": {"domain", "units"},
    "rules": {"domain", "units", "factors"},
    "engine": {"domain"},
    "io": {"domain", "units", "factors", "rules"},
    "store": {"domain"},
}
SERVICES = set(CORE) | {"services"}
ALLOWED: dict[str, set[str]] = {
    **{
        layer: deps | {layer} | (BASE if layer != "domain" else set())
        for layer, deps in CORE.items()
    },
    "config": {"config"},
    "openpcf": {"openpcf"},
    "services": SERVICES | BASE,
    "api": SERVICES | BASE | {"api"},
    "web": SERVICES | BASE | {"web"},
    "cli": SERVICES | BASE | {"cli"},
}
#: (importing module, imported module prefix): the composition imports named in the docstring.
COMPOSITION = {
    ("openpcf.api.app", "openpcf.web.routes"),
    ("openpcf.cli.platform", "openpcf.api.app"),
}
#: Prefixes that name a domain: a module by such a name belongs in that domain's package.
DOMAIN_WORDS = {"pact", "cli", "api", "web", "monitoring", "recompute", "certification", "cbam",
                "lci", "ledger", "exchange", "catalogue", "calculation", "platform", "report",
                "supplier", "suppliers", "green"}  # fmt: skip


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if "migrations" in parts:  # alembic's scripts, loaded by alembic, frozen once written
            continue
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str:
    """The module an imported name is: the longest prefix that is one of ours."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(module: str, path: Path, top_level_only: bool) -> set[str]:
    """Our modules `module` imports (all of them, or those run at import time)."""
    tree = ast.parse(path.read_text("utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nodes: list[ast.AST] = []
    if top_level_only:
        todo = list(tree.body)
        while todo:
            node = todo.pop()
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.If | ast.Try):
                todo += [*node.body, *node.orelse, *getattr(node, "finalbody", [])]
                todo += [s for h in getattr(node, "handlers", []) for s in h.body]
            nodes.append(node)
    else:
        nodes = list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {_resolve(a.name) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for a in node.names:
                found.add(_resolve(f"{base}.{a.name}"))
    return {f for f in found if f.startswith("openpcf")}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "openpcf"


def test_the_module_map_is_read() -> None:
    # the checks below mean nothing if the walk found nothing or misread a name
    assert {"openpcf.domain", "openpcf.services.recompute.run", "openpcf.api.app"} <= set(MODULES)
    assert _resolve("openpcf.io.pact.export.product_footprint") == "openpcf.io.pact.export"
    imported = _imports("openpcf.services.exchange.host", MODULES["openpcf.services.exchange.host"],
                        top_level_only=True)  # fmt: skip
    assert "openpcf.services.exchange.footprints" in imported


def test_imports_point_one_way() -> None:
    wrong = []
    for module, path in MODULES.items():
        layer = _layer(module)
        for target in _imports(module, path, top_level_only=False):
            if _layer(target) in ALLOWED[layer]:
                continue
            if any(module == a and target.startswith(b) for a, b in COMPOSITION):
                continue
            wrong.append(f"{module} ({layer}) imports {target} ({_layer(target)})")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, or a module importing itself
    (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    out.append(sorted(component))
    return out


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert sorted(_cycles(graph)) == [["a", "b", "c"], ["e"]]


def test_no_import_cycle_between_modules() -> None:
    graph = {m: _imports(m, p, top_level_only=True) - {m} for m, p in MODULES.items()}
    cycles = _cycles(graph)
    assert not cycles, "modules importing each other at import time:\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def test_no_module_over_700_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them along their seams): {long}"


def test_no_domain_prefixed_module_at_a_root() -> None:
    # `services/monitoring_ingest.py` or `openpcf/cli_pact.py` belong in a domain's package
    roots = (PACKAGE, PACKAGE / "services")
    words = DOMAIN_WORDS | {p.name for root in roots for p in root.iterdir() if p.is_dir()}
    wrong = [
        str(p.relative_to(SRC))
        for root in roots
        for p in root.glob("*.py")
        if p.stem.split("_")[0] in words and "_" in p.stem.strip("_")
    ]
    assert not wrong, f"modules named for a domain outside its package: {wrong}"
