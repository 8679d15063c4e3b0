"""Docs stay true: schema.graphql, .env.example and the README's table match the code."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from bff.core.config import Settings
from bff.web.app import create_schema
from tests.support import IN_CI

ROOT = Path(__file__).resolve().parent.parent


def env_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias if isinstance(alias, str) else f"BFF_{name.upper()}")
    return names


def test_schema_graphql_is_exported_from_code() -> None:
    exported = create_schema(Settings(env="development")).as_str().strip()
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8").strip()
    assert committed == exported, "schema.graphql is stale: run `bff export-schema > schema.graphql`"


def test_every_setting_is_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Z_]+)=", example, flags=re.M))
    assert listed == env_names()


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.M))
    assert listed == env_names()


def test_docker_compose_is_valid() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert {"bff", "mysql", "redis"} <= set(compose["services"])
    assert compose["services"]["mysql"]["image"].startswith("mysql:8")
    assert compose["services"]["bff"]["depends_on"]["mysql"]["condition"] == "service_healthy"
    # `docker compose config` (plugin) or Debian's `docker-compose` 1.29: both validate without an engine.
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        command = ["docker", "compose"]
    else:
        assert shutil.which("docker-compose") or not IN_CI, "CI installs docker-compose (.ci/run)"
        command = ["docker-compose"] if shutil.which("docker-compose") else []
    if command:
        env = {"MYSQL_PASSWORD": "x", "BFF_SECRET_KEY": "x", "BFF_DATA_KEY": "x", "PATH": "/usr/bin:/bin"}
        result = subprocess.run([*command, "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        missing = subprocess.run([*command, "config", "-q"], cwd=ROOT, env={"PATH": "/usr/bin:/bin"},
                                 capture_output=True, text=True)
        assert missing.returncode != 0 and "MYSQL_PASSWORD" in missing.stderr  # secrets are required, not defaulted
