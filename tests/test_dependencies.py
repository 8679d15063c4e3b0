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


def _locked(path: Path) -> dict[str, tuple[str, str, int]]:
    """Distribution -> (version, marker, hashes) of a lock written by `make lock`, for this
    interpreter (a universal lock may pin one distribution differently per Python version)."""
    from packaging.markers import Marker

    pins: dict[str, tuple[str, str, int]] = {}
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        pin = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", line)
        if pin:
            marker = (pin.group(3) or "").strip()
            current = _name(pin.group(1)) if not marker or Marker(marker).evaluate() else ""
            if current:
                pins[current] = (pin.group(2), marker, 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            version, marker, hashes = pins[current]
            pins[current] = (version, marker, hashes + 1)
    return pins


def test_the_locks_pin_every_declared_requirement_with_hashes() -> None:
    """Issue 21: no lock, 22 dependencies pinned `>=` only. `make install` and the Dockerfile
    install requirements-dev.lock / requirements.lock with --require-hashes; each declared
    requirement must be pinned there at a version it accepts (a requirement added or raised in
    pyproject.toml without `make lock` fails here; `make lock-check` in CI re-resolves too)."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, dev = _locked(ROOT / "requirements.lock"), _locked(ROOT / "requirements-dev.lock")
    for lock, requirements in ((runtime, project["dependencies"]),
                               (dev, project["dependencies"] + project["optional-dependencies"]["dev"])):
        for text in requirements:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate():
                continue
            name = _name(requirement.name)
            assert name in lock, f"{name} is not in the lock: run `make lock`"
            assert Version(lock[name][0]) in requirement.specifier, f"{name}=={lock[name][0]} does not satisfy {text}: run `make lock`"
    assert all(hashes for _, _, hashes in [*runtime.values(), *dev.values()]), "every pin carries its hashes"
    # The image runs what the tests ran: the same version of every runtime distribution.
    assert {n: v[0] for n, v in runtime.items()} == {n: dev[n][0] for n in runtime}
    assert "watchfiles" not in runtime  # uvicorn[standard]'s reloader: never used in production


def test_the_installed_environment_is_the_lock() -> None:
    """`make install` installed the dev lock: what the suite runs is what is pinned."""
    from importlib.metadata import distributions

    installed = {_name(d.metadata["Name"]): d.version for d in distributions()}
    dev = _locked(ROOT / "requirements-dev.lock")
    drift = {n: (v[0], installed.get(n)) for n, v in dev.items() if installed.get(n) not in (v[0], None)}
    assert not drift, f"installed versions differ from requirements-dev.lock (run `make install`): {drift}"
