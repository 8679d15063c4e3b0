"""How many project files one request runs through: the size of what a reader must follow.

    .venv/bin/python bench/paths.py [OrderDetail Home ShipmentLines ...]

A demo stack in this process (SQLite, memory cache, simulators on loopback); each named trusted
document is sent once to warm the stack, then once more with a profiler recording which of the
project's files (``bff/``, ``schema/``, ``resolvers/``; the simulators excluded) ran a function
for it, and how many of ``bff/erp``'s.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import httpx
from common import MANIFEST, ROOT, bench_settings

from bff.demo import start_demo_stack
from bff.web.documents import operation_name

PICK = """{ orders(page: 1, pageSize: 20) { items { id code shipments { id } materials { id } } } }"""
PROJECT = tuple(str(ROOT / part) + "/" for part in ("bff", "schema", "resolvers"))
SIMULATORS = str(ROOT / "bff" / "sim") + "/"


def recording(files: set[str]) -> Callable[[FrameType, str, Any], None]:
    def profile(frame: FrameType, event: str, arg: Any) -> None:
        name = frame.f_code.co_filename
        if event == "call" and name.startswith(PROJECT) and not name.startswith(SIMULATORS):
            files.add(name[len(str(ROOT)) + 1:])

    return profile


async def main(names: list[str]) -> None:
    stack = await start_demo_stack(base_settings=bench_settings())
    try:
        async with httpx.AsyncClient(base_url=stack.url, headers={"Authorization": f"Bearer {stack.token}"}) as http:
            items = (await http.post("/graphql", json={"query": PICK})).json()["data"]["orders"]["items"]
            order = max(items, key=lambda o: len(o["shipments"]))
            variables = {"OrderDetail": {"id": order["id"]}, "Home": {"pageSize": 20},
                         "ShipmentLines": {"id": order["shipments"][0]["id"]},
                         "MaterialProgress": {"id": order["materials"][0]["id"]}}
            texts = json.loads(MANIFEST.read_text(encoding="utf-8")).values()
            documents = {operation_name(text): text for text in texts}
            print("| operation | project files | of which bff/erp |\n|---|---|---|")
            for name in names:
                body = {"query": documents[name], "variables": variables.get(name, {})}
                await http.post("/graphql", json=body)  # warm: sessions, caches, first imports
                files: set[str] = set()
                sys.setprofile(recording(files))
                threading.setprofile(recording(files))
                try:
                    answer = await http.post("/graphql", json=body)
                finally:
                    sys.setprofile(None)
                    threading.setprofile(None)  # type: ignore[arg-type]
                assert "errors" not in answer.json(), answer.text
                erp = sorted(f for f in files if f.startswith("bff/erp/"))
                print(f"| {name} | {len(files)} | {len(erp)} ({', '.join(f.removeprefix('bff/erp/') for f in erp)}) |")
    finally:
        await stack.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:] or ["OrderDetail", "Home", "ShipmentLines"]))
