"""`bff serve` freezes its startup heap out of garbage collections and starts young collections
every BFF_GC_YOUNG_THRESHOLD net allocations (bff/core/gc_tuning.py, issue 11). Each case runs in
a process of its own: the collector's state is the process's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# `bff serve` up to the point where uvicorn would take over: the collector as it is then.
PROBE = """
import gc, json, sys, uvicorn
from bff import cli
uvicorn.run = lambda app, **_: print(json.dumps({"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
cli.main(["serve"])
"""


def serve_probe(tmp_path: Path, **env: str) -> dict[str, object]:
    environment = {**os.environ, "BFF_ENV": "development", "BFF_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/probe.sqlite3",
                   "BFF_REDIS_URL": "", **env}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


@pytest.mark.parametrize(("setting", "young"), [("12345", 12345), ("0", 700)])
def test_bff_serve_freezes_its_startup_heap_and_spaces_young_collections(tmp_path: Path, setting: str, young: int) -> None:
    found = serve_probe(tmp_path, BFF_GC_YOUNG_THRESHOLD=setting)
    assert found["threshold"] == [young, 10, 10]  # the older generations keep Python's defaults
    assert isinstance(found["frozen"], int) and found["frozen"] > 100_000  # the schema, modules and services
