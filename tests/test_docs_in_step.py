"""Docs stay true: schema.graphql, .env.example and the README's table match the code."""

from __future__ import annotations

import re
from pathlib import Path

from bff.core.config import Settings
from bff.web.app import create_schema

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


def test_env_example_values_are_the_defaults() -> None:
    """Issue 21: .env.example left secrets empty where the README says "dev default" (an empty
    key is not the default). Copied to .env, it must configure exactly what no .env does."""
    def values(settings: Settings) -> dict[str, object]:
        return {name: (v.get_secret_value() if hasattr(v, "get_secret_value") else v) for name, v in settings}

    assert values(Settings(_env_file=ROOT / ".env.example")) == values(Settings(_env_file=None))  # type: ignore[call-arg]
