"""Trusted documents: the manifest is fresh, registered documents run by id, and in
production a purchaser may run nothing else (administrators and the developer key may)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from pydantic import SecretStr

from bff.core.config import Settings
from bff.demo import DemoStack
from bff.web import documents
from tests.monitor.helpers import admin_token
from tests.support import REAL, app_client, error_code

DEV_KEY = "dev-key-Qw3rTy7uI9oP2aS4dF6gH8jK0lZ"


def test_manifest_and_the_mini_programs_ids_are_fresh() -> None:
    manifest = documents.build_manifest()
    committed = documents.MANIFEST.read_text(encoding="utf-8")
    assert committed == documents.manifest_json(manifest), "stale: run `bff documents --write`"
    assert documents.MINIPROGRAM_IDS.read_text(encoding="utf-8") == documents.ids_module(manifest)


def test_every_mini_program_and_shim_document_is_registered() -> None:
    registered = set(json.loads(documents.MANIFEST.read_text(encoding="utf-8")).values())
    sent = documents.miniprogram_documents() + documents.shim_documents()
    assert len(documents.miniprogram_documents()) >= 15
    assert [d for d in sent if d not in registered] == []
    for key, text in json.loads(documents.MANIFEST.read_text(encoding="utf-8")).items():
        assert key == documents.document_id(text)


def test_every_registered_document_is_valid_against_the_schema() -> None:
    """Registered documents skip validation per request, and are validated only when first used."""
    from bff.web.app import create_schema
    from tests.support import make_settings

    registry = documents.DocumentRegistry.load()
    create_schema(make_settings(), registry)
    entries = [registry.by_id(key) for key in json.loads(documents.MANIFEST.read_text(encoding="utf-8"))]
    assert len(entries) >= 15 and None not in entries
    assert {e.id: [m.message for m in registry.errors(e)] for e in entries if e and registry.errors(e)} == {}
    broken = documents.DocumentRegistry({"sha256:x": "query Broken { me { noSuchField } }"})
    create_schema(make_settings(), broken)
    entry = broken.by_id("sha256:x")
    assert entry is not None and "noSuchField" in broken.errors(entry)[0].message


@asynccontextmanager
async def production(stack: DemoStack) -> AsyncIterator[httpx.AsyncClient]:
    """The same services behind an app in production mode."""
    settings = Settings(
        **{**REAL, "developer_key": SecretStr(DEV_KEY)},
        database_url=stack.services.settings.database_url,
    )
    async with app_client(settings, stack.services) as client:
        yield client


async def test_production_runs_registered_documents_by_id_only(stack: DemoStack) -> None:
    manifest = json.loads(documents.MANIFEST.read_text(encoding="utf-8"))
    me_id = next(key for key, text in manifest.items() if documents.operation_name(text) == "Me")
    bearer = {"Authorization": f"Bearer {stack.token}"}
    async with production(stack) as client:
        by_id = await client.post("/graphql", json={"documentId": me_id, "variables": {}}, headers=bearer)
        apollo = await client.post(
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": me_id.removeprefix("sha256:")}}},
            headers=bearer,
        )
        by_text = await client.post("/graphql", json={"query": manifest[me_id]}, headers=bearer)
        stranger = await client.post("/graphql", json={"query": "{ me { openid } }"}, headers=bearer)
        anonymous = await client.post("/graphql", json={"query": "{ __typename }"})
        unknown = await client.post("/graphql", json={"documentId": "sha256:" + "0" * 64}, headers=bearer)
        developer = await client.post("/graphql", json={"query": "{ me { openid } }"}, headers={**bearer, "X-Developer-Key": DEV_KEY})
        admin = await client.post(
            "/graphql", json={"query": "{ me { openid } }"}, headers={"Authorization": f"Bearer {await admin_token(stack)}"}
        )
        rest = await client.get("/api/user/profile", headers=bearer)
    assert by_id.status_code == 200 and by_id.json()["data"]["me"]["bound"] is True
    assert apollo.json()["data"]["me"]["openid"] == by_id.json()["data"]["me"]["openid"]
    assert error_code(by_text.json()) is None  # the registered text itself is trusted too
    assert stranger.status_code == 403 and error_code(stranger.json()) == "PERSISTED_DOCUMENT_REQUIRED"
    assert error_code(anonymous.json()) == "PERSISTED_DOCUMENT_REQUIRED"
    assert unknown.status_code == 400 and error_code(unknown.json()) == "PERSISTED_DOCUMENT_NOT_FOUND"
    assert developer.json()["data"]["me"]["openid"] and admin.json()["data"]["me"]["openid"]
    assert rest.status_code == 200  # the REST shims' documents are registered


async def test_production_turns_field_suggestions_off(stack: DemoStack) -> None:
    async with production(stack) as client:
        answer = await client.post(
            "/graphql", json={"query": "{ me { opnid } }"},
            headers={"Authorization": f"Bearer {stack.token}", "X-Developer-Key": DEV_KEY},
        )
    assert error_code(answer.json()) == "BAD_USER_INPUT"
    assert "Did you mean" not in answer.text and "openid" not in answer.text
