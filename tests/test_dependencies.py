"""Every third-party module the shipped code imports comes from a distribution that
``pyproject.toml`` declares, not from one that merely happens to be installed as another's
dependency (``cross_web`` was imported for strawberry's HTTPException while only strawberry
required it). Neither ruff nor import-linter can see this: they know modules, not distributions.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("bff", "schema", "resolvers")  # [tool.setuptools.packages.find]


def _name(requirement: str) -> str:
    """A requirement's distribution name, normalised (PEP 503)."""
    name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    assert name is not None, requirement
    return re.sub(r"[-_.]+", "-", name.group()).lower()


def _imported_top_levels() -> dict[str, set[str]]:
    """Top-level module -> the files importing it (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for package in SHIPPED:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    found.setdefault(module.partition(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_shipped_code_imports_only_declared_distributions() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_name(r) for r in project["dependencies"]}
    providers = packages_distributions()
    undeclared = {}
    for module, files in _imported_top_levels().items():
        if module in sys.stdlib_module_names or module in SHIPPED or module == "__future__":
            continue
        distributions = {_name(d) for d in providers.get(module, [])}
        assert distributions, f"{module} (imported by {sorted(files)}) is not installed"
        if not distributions & declared:
            undeclared[module] = (sorted(distributions), sorted(files))
    assert not undeclared, f"imported but not in [project] dependencies: {undeclared}"
