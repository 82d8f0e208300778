"""The layer rules of docs/architecture.md, checked on the import graph (grimp, the engine of
import-linter): pure domain modules use no web framework, ORM or database, so they can be tested
and reused from the CLI and the scheduler; no area imports another area's views; and no module
uses another module's private names (read from the source, as an import graph does not hold them)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

PACKAGE = "audit_workflow"

# Domain logic as functions of plain values. A new statistic or rule module joins this list.
PURE_MODULES = [
    "audit_workflow.clock",
    "audit_workflow.workdays",
    "audit_workflow.outcome",
    "audit_workflow.resources",
    "audit_workflow.framework.model",
    "audit_workflow.framework.loader",
    "audit_workflow.framework.grading",
    "audit_workflow.plans.reference",
    "audit_workflow.vocabulary",
    "audit_workflow.reference",
    "audit_workflow.plans.parsing",
    "audit_workflow.cycles.sampling",
    "audit_workflow.cycles.allocation",
    "audit_workflow.cycles.chase_rules",
    "audit_workflow.notifications.privacy",
    "audit_workflow.notifications.retry",
    "audit_workflow.moderation.statistics",
    "audit_workflow.moderation.selection",
    "audit_workflow.reports.aggregates",
    "audit_workflow.reports.statistics",
    "audit_workflow.reports.filters",
    "audit_workflow.reports.benchmarking",
    "audit_workflow.feedback.questionnaire",
    "audit_workflow.feedback.results",
    "audit_workflow.feedback.rules",
    "audit_workflow.actions.rules",
    "audit_workflow.actions.board",
    "audit_workflow.reports.charts",
    "audit_workflow.reports.export_formats",
    "audit_workflow.reports.cycle_report.document",
    "audit_workflow.natural_order",
    "audit_workflow.rate_limit.rules",
    "audit_workflow.refusals",
]

# What a pure module may not reach, directly or through other modules.
FORBIDDEN = ("flask", "werkzeug", "sqlmodel", "sqlalchemy", "audit_workflow.db")


def impurities(graph: grimp.ImportGraph, module: str, forbidden=FORBIDDEN) -> list[str]:
    """Each import chain from module to something a pure module may not use."""
    chains = (graph.find_shortest_chain(importer=module, imported=name) for name in forbidden if name in graph.modules)
    return [" -> ".join(chain) for chain in chains if chain]


def views_imported_across_areas(graph: grimp.ImportGraph, package: str) -> list[str]:
    """Each import of one area's views module (package.area.views) by a module of another area."""
    def area(module: str) -> str:
        return module.split(".")[1]

    return sorted(
        f"{importer} -> {imported}"
        for importer in graph.modules if importer.startswith(f"{package}.") and importer.count(".") >= 2
        for imported in graph.find_modules_directly_imported_by(importer)
        if imported.startswith(f"{package}.") and imported.endswith(".views") and area(imported) != area(importer)
    )


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, include_external_packages=True)


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_modules_use_no_web_framework_orm_or_database(graph, module):
    assert module in graph.modules, f"{module} is listed as pure but does not exist"
    assert impurities(graph, module) == []


def test_no_area_imports_another_areas_views(graph):
    assert views_imported_across_areas(graph, PACKAGE) == []


def write_package(root: Path, name: str, files: dict[str, str]) -> Path:
    """A throwaway package for checking that a rule catches what it should: files maps a path
    inside it ("alpha/rules.py") to its source; every folder gets an __init__.py."""
    package = root / name
    for path, source in files.items():
        (package / path).parent.mkdir(parents=True, exist_ok=True)
        (package / path).write_text(source)
    for folder in (package, *(path for path in package.rglob("*") if path.is_dir())):
        (folder / "__init__.py").touch()
    return package


def test_the_rules_catch_a_violation(tmp_path, monkeypatch):
    write_package(tmp_path, "layered", {
        "alpha/rules.py": "from ..beta import helpers\n",
        "beta/helpers.py": "import flask\n",
        "beta/views.py": "",
        "alpha/views.py": "from ..beta import views\n",
        "beta/pages.py": "from . import views\n",
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("layered", include_external_packages=True)

    assert impurities(graph, "layered.alpha.rules") == ["layered.alpha.rules -> layered.beta.helpers -> flask"]
    assert views_imported_across_areas(graph, "layered") == ["layered.alpha.views -> layered.beta.views"]


def test_the_scheduler_rule_catches_a_crossing(tmp_path, monkeypatch):
    write_package(tmp_path, "timed", {
        "alpha/models.py": "",
        "alpha/jobs.py": "from ..scheduler import runner\n",
        "scheduler/runner.py": "from ..alpha import models\n",
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("timed")
    assert scheduler_crossings(graph, "timed") == ["timed.alpha.jobs -> timed.scheduler.runner",
                                                  "timed.scheduler.runner -> timed.alpha.models"]


def scheduler_crossings(graph: grimp.ImportGraph, package: str) -> list[str]:
    """An area importing the scheduler, or the scheduler importing an area's models: the scheduler
    finds each area's jobs through its job table ("module:function" strings), and an area's jobs
    need nothing of the scheduler. (Roles, from auth.models, guard its admin page; the app's
    composition modules at the top of the package, such as cli.py, may start it.)"""
    scheduler = f"{package}.scheduler"
    crossings = []
    for importer in graph.modules:
        if not importer.startswith(f"{package}.") or importer.count(".") < 2:
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            from_scheduler, to_scheduler = importer.startswith(scheduler), imported.startswith(scheduler)
            if to_scheduler and not from_scheduler:
                crossings.append(f"{importer} -> {imported}")
            if from_scheduler and not to_scheduler and imported.endswith(".models") and imported != f"{package}.auth.models":
                crossings.append(f"{importer} -> {imported}")
    return sorted(crossings)


def test_the_scheduler_and_the_areas_do_not_import_each_other(graph):
    assert scheduler_crossings(graph, PACKAGE) == []


def private_names_reached(folder: Path) -> list[str]:
    """Each use of another module's private name (`_name`) in the package in folder: imported
    (`from .loader import _read`) or reached through an imported module (`base._helper`). What other
    modules need is public, so a private name can change with its own module alone."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = set()  # the names this file binds to the package's own modules (or names in them)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith(folder.name)):
                for alias in node.names:
                    if _private(alias.name):
                        found.append(f"{path.relative_to(folder.parent)}:{node.lineno} imports {alias.name}")
                    modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                modules.update(alias.asname or alias.name.split(".")[0] for alias in node.names
                               if alias.name.startswith(folder.name))
        found += [f"{path.relative_to(folder.parent)}:{node.lineno} uses {node.value.id}.{node.attr}"
                  for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in modules and _private(node.attr)]
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_uses_another_modules_private_names():
    assert private_names_reached(Path(__file__).parent.parent / PACKAGE) == []


def test_the_private_names_rule_catches_a_violation(tmp_path):
    package = write_package(tmp_path, "shy", {
        "alpha/helpers.py": "def _helper():\n    pass\n",
        "alpha/rules.py": "from .helpers import _helper\nfrom . import helpers as base\nbase._helper()\n_helper()\n",
        "beta.py": "import shy.alpha.helpers\nfrom flask import current_app\ncurrent_app._get_current_object()\n"
                   "shy.alpha.helpers\n",
    })
    assert private_names_reached(package) == ["shy/alpha/rules.py:1 imports _helper", "shy/alpha/rules.py:3 uses base._helper"]
