"""The module layers of docs/architecture.md hold: no import cycles, and the web side never loads the worker side.

Imports are read with ``ast`` (function-level imports included), so a cycle
hidden inside a function body counts as much as one at the top of a module.
Imports under ``if TYPE_CHECKING:`` never run and are left out.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGES = ("apps", "workers", "aniworld_site")
# What apps/ may use of workers/: the engine's Django-free contract (failure kinds, partial files, ffmpeg lookup).
ENGINE_CONTRACT = {"workers.engine.errors", "workers.engine.storage", "workers.engine.ffmpeg"}
# The Celery app connects the worker-side signal handlers (heartbeats, clean stop); they load Django code lazily.
CELERY_WIRING = {"workers.node"}


def module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def runtime_nodes(tree: ast.AST):
    """Every node of the tree except those under ``if TYPE_CHECKING:`` (type-only imports never run)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))


def imported_modules(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """What every import statement anywhere in the file names: a project module, or an outside top-level package.

    ``from package import name`` names ``package.name`` when that is a module, else ``package``.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            names.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names)
    resolved = set()
    for name in names:
        if name.split(".")[0] not in PACKAGES:
            resolved.add(name.split(".")[0])
            continue
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != module:
            resolved.add(name)
    return resolved


def project_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {
        module: {name for name in imported_modules(module, path, modules) if name in modules}
        for module, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
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
                    work.append((child, iter(sorted(graph[child]))))
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
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_modules():
    assert cycles(project_graph()) == []


def test_apps_use_only_the_engine_contract_of_workers_and_never_yt_dlp():
    modules = module_files()
    offending = {}
    for module, path in modules.items():
        if not module.startswith(("apps.", "aniworld_site.")):
            continue
        names = imported_modules(module, path, modules)
        bad = {
            name
            for name in names
            if name == "yt_dlp"
            or (
                name.startswith("workers")
                and name not in ENGINE_CONTRACT
                and not (module == "aniworld_site.celery" and name in CELERY_WIRING)
            )
        }
        if bad:
            offending[module] = sorted(bad)
    assert offending == {}


def test_the_engine_imports_nothing_from_django_not_even_through_the_apps_it_uses():
    modules = module_files()
    graph = project_graph()
    reached = {module for module in modules if module.startswith("workers.engine")}
    pending = list(reached)
    while pending:
        for imported in graph[pending.pop()] - reached:
            reached.add(imported)
            pending.append(imported)
    using_django = sorted(
        module for module in reached if "django" in imported_modules(module, modules[module], modules)
    )
    assert using_django == []
    assert not any(module.startswith(("workers.download", "workers.schedules", "apps.queue")) for module in reached)


WEB_PROCESS = """
import importlib, json, pkgutil, sys
import django
django.setup()
import aniworld_site.asgi, aniworld_site.urls
import apps
for info in pkgutil.walk_packages(apps.__path__, "apps."):
    importlib.import_module(info.name)
from aniworld_site import tasks
from celery import current_app
signature = current_app.signature(tasks.DOWNLOAD_ITEM)  # what send_on_commit builds, by name
assert current_app.tasks.get(tasks.DOWNLOAD_ITEM) is None  # so it goes out through send_task
loaded = sorted(name for name in sys.modules if name.split(".")[0] == "yt_dlp" or name.startswith("workers."))
print(json.dumps(loaded))
"""


def test_a_web_process_loads_neither_yt_dlp_nor_a_task_module():
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "aniworld_site.settings"}
    result = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert [name for name in loaded if name.split(".")[0] == "yt_dlp"] == []
    assert set(loaded) <= {"workers.engine", *ENGINE_CONTRACT, *CELERY_WIRING}
