"""The layering docs/architecture.md describes, checked on the source: who may import whom.

Every import counts, those inside functions too: a lazy import hides a cycle, it does not
remove it.
"""

import ast
from pathlib import Path

from django.test import SimpleTestCase

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("config", "matches", "realtime", "frontend")
# What the tick worker and the gateway may share: they meet only in Redis.
SHARED = (
    "realtime.store",
    "realtime.protocol",
    "realtime.groups",
    "realtime.figures",
    "realtime.redisconn",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Project modules ``path`` imports (``from pkg import mod`` counts as ``pkg.mod``)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    return imports_in(path.read_text(), package=package)


def imports_in(source: str, *, package: list[str]) -> set[str]:
    tree = ast.parse(source)
    here = package
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def source_modules() -> dict[str, set[str]]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[module_name(path)] = imports_of(path)
    # Keep only names that are modules (not classes or functions imported from them).
    return {name: {i for i in deps if i in modules} for name, deps in modules.items()}


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


class LayeringTests(SimpleTestCase):
    modules = source_modules()

    def offenders(self, importer: str, imported: str, allowed=()) -> list[str]:
        return sorted(
            f"{name} -> {dep}"
            for name, deps in self.modules.items()
            if within(name, importer)
            for dep in deps
            if within(dep, imported) and not any(within(dep, ok) for ok in allowed)
        )

    def test_the_domain_imports_nothing_above_it(self):
        for above in ("realtime", "frontend", "config"):
            with self.subTest(above=above):
                self.assertEqual(self.offenders("matches", above), [])

    def test_the_tick_worker_and_the_gateway_meet_only_in_the_shared_modules(self):
        self.assertEqual(self.offenders("realtime.engine", "realtime.gateway"), [])
        self.assertEqual(self.offenders("realtime.gateway", "realtime.engine"), [])
        for shared in SHARED:
            with self.subTest(shared=shared):
                self.assertEqual(self.offenders(shared, "realtime.engine"), [])
                self.assertEqual(self.offenders(shared, "realtime.gateway"), [])

    def test_production_code_never_needs_the_dev_tooling(self):
        for package in ("config", "matches", "frontend", "realtime.engine", "realtime.gateway",
                        "realtime.lobby", "realtime.ops", *SHARED):  # fmt: skip
            with self.subTest(package=package):
                self.assertEqual(self.offenders(package, "realtime.dev"), [])

    def test_there_is_no_import_cycle(self):
        graph = self.modules
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        cycles = []

        def visit(name: str, path: list[str]) -> None:
            state[name] = 1
            for dep in sorted(graph.get(name, ())):
                # A package's __init__ importing its own modules is not a cycle of theirs.
                if within(dep, name) or within(name, dep):
                    continue
                if state.get(dep) == 1:
                    cycles.append(" -> ".join([*path[path.index(dep) :], dep]))
                elif dep not in state:
                    visit(dep, [*path, dep])
            state[name] = 2

        for name in sorted(graph):
            if name not in state:
                visit(name, [name])
        self.assertEqual(cycles, [])

    def test_the_check_sees_imports_inside_functions_and_relative_ones(self):
        source = "def later():\n    from realtime.engine import tasks\nfrom . import rules\n"
        found = imports_in(source, package=["matches", "titles"])
        self.assertIn("realtime.engine.tasks", found)
        self.assertIn("matches.titles.rules", found)
