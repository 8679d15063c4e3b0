"""Production mode: refuses development defaults; no GraphiQL, no introspection."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from bff.core.config import Settings
from tests.support import REAL


def test_production_refuses_each_missing_secret() -> None:
    Settings(**REAL)  # complete: accepted
    for name in ("secret_key", "data_key", "wx_secret", "erp_password", "erp_account", "wx_appid", "public_url"):
        broken = {k: v for k, v in REAL.items() if k != name}
        with pytest.raises(ValidationError) as raised:
            Settings(**broken)
        assert f"BFF_{name.upper()}" in str(raised.value)


def test_production_refuses_short_or_repetitive_secrets() -> None:
    for name, weak in (
        ("secret_key", "short-but-random-9Xq"),
        ("data_key", "ab" * 20),
        ("wx_secret", "x" * 40),
        ("admin_token", "admin"),
    ):
        with pytest.raises(ValidationError) as raised:
            Settings(**{**REAL, name: SecretStr(weak)})
        assert f"BFF_{name.upper()}" in str(raised.value)


def test_refusal_names_the_setting_but_never_prints_a_secret() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bff.cli", "serve", "--port", "1"],
        env={
            "BFF_ENV": "production", "PATH": "/usr/bin:/bin",
            "BFF_SECRET_KEY": "tooShortSecretValue77", "BFF_ERP_PASSWORD": "Erp-Password-Visible-42",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "BFF_SECRET_KEY" in result.stderr
    assert "tooShortSecretValue77" not in result.stderr and "Erp-Password-Visible-42" not in result.stderr


def test_bff_serve_refuses_to_start_in_production_with_defaults(tmp_path: object) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bff.cli", "serve", "--port", "1"],
        env={"BFF_ENV": "production", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "refusing to start" in result.stderr and "BFF_SECRET_KEY" in result.stderr


def test_bff_serve_refuses_the_wechat_simulators_delivery_log_in_production() -> None:
    env = {f"BFF_{k.upper()}": v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in REAL.items()}
    result = subprocess.run(
        [sys.executable, "-m", "bff.cli", "serve", "--port", "1", "--wechat-sim"],
        env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0 and "refusing to start: --wechat-sim" in result.stderr, result.stderr


async def test_production_has_no_graphiql_and_no_introspection(stack: object) -> None:
    from bff.web.app import create_app
    from bff.web.serving import start_server

    services = stack.services  # type: ignore[attr-defined]
    key = "developer-key-8fK2pL9qW3xZ7vB1nM5cR0tY"
    settings = Settings(**REAL, database_url=services.settings.database_url, developer_key=SecretStr(key))
    server = await start_server(create_app(settings, services))
    try:
        async with httpx.AsyncClient(base_url=server.url, headers={"X-Developer-Key": key}) as client:
            page = await client.get("/graphql", headers={"Accept": "text/html"})
            asset = await client.get("/graphiql/static/react@18.2.0/umd/react.production.min.js")
            introspect = await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})
            typename = await client.post("/graphql", json={"query": "{ __typename }"})
    finally:
        server.server.should_exit = True
        await server.task
    assert "graphiql" not in page.text.lower()
    assert asset.status_code == 404  # GraphiQL's local assets are not served either
    assert introspect.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert introspect.json().get("data") is None
    assert "extensions" not in typename.json() or "erp" not in typename.json().get("extensions", {})
