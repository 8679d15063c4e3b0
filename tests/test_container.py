"""The image's own command line (the Dockerfile's ENTRYPOINT + CMD, run here as a process: no
docker engine is needed) migrates, serves, and drains on SIGTERM within BFF_SHUTDOWN_GRACE_S.
Issue 21: the image ran `sh -c "bff migrate && bff serve"`, and sh as PID 1 ignored SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import missing

ROOT = Path(__file__).resolve().parent.parent
GRACE_S = 1.0
MARGIN_S = 3.0  # tini's hand-over, interpreter exit, closing pools on a busy 2-core machine


def _instruction(name: str) -> list[str]:
    """An exec-form (JSON array) instruction of the Dockerfile; a shell form fails here."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = re.findall(rf"^{name}\s+(.+)$", text, flags=re.M)
    assert len(lines) == 1, f"one {name} in the Dockerfile"
    value = json.loads(lines[0])  # not JSON: shell form, and a shell would be PID 1
    assert isinstance(value, list) and all(isinstance(part, str) for part in value)
    return value


def test_the_image_command_is_exec_form_under_an_init() -> None:
    entrypoint, command = _instruction("ENTRYPOINT"), _instruction("CMD")
    assert entrypoint == ["/usr/bin/tini", "--"]  # installed from Debian in the image
    assert command[:2] == ["bff", "serve"] and "--migrate" in command
    assert not {"sh", "bash", "/bin/sh", "-c"} & set(command)


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A WeChat that takes the connection and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.early
def test_the_image_command_migrates_serves_and_drains_on_sigterm(tmp_path: Path, black_hole: str) -> None:
    argv = _instruction("ENTRYPOINT") + _instruction("CMD")
    if not Path(argv[0]).exists():
        missing(f"{argv[0]} (apt-get install -y tini)")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BFF_")}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",  # `bff` as the image installs it
        PORT=str(port), BFF_HOST="127.0.0.1", BFF_ENV="test", BFF_REDIS_URL="",
        BFF_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/image.sqlite3",  # a new database: --migrate builds it
        BFF_WX_BASE_URL=black_hole, BFF_ERP_BASE_URL=f"http://127.0.0.1:{_free_port()}",
        BFF_SHUTDOWN_GRACE_S=str(GRACE_S),
        TINI_SUBREAPER="1",  # not PID 1 here: reap as a subreaper instead of warning about it
    )
    assert shutil.which("bff", path=env["PATH"])
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "image.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()[-2000:]
                try:
                    health = httpx.get(url + "/api/health/check", timeout=5)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)  # not listening yet: poll again until the deadline
            assert health.json()["checks"]["schema"]["status"] == "up", health.text  # migrated before serving

            stuck = threading.Thread(target=_login_waiting_on_wechat, args=(url,), daemon=True)
            stuck.start()
            time.sleep(0.5)  # let the login reach WeChat (the black hole)

            process.send_signal(signal.SIGTERM)  # to PID 1 of the container: tini
            sent = time.monotonic()
            process.wait(timeout=GRACE_S + MARGIN_S + 10)
            took = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    log = log_path.read_text(encoding="utf-8")
    # tini exits with its child's status: 128 + SIGTERM when uvicorn re-raised the signal after a clean shutdown
    assert process.returncode in (0, 128 + signal.SIGTERM), log[-2000:]
    assert took <= GRACE_S + MARGIN_S, f"stopped {took:.1f} s after SIGTERM (grace {GRACE_S} s)"
    assert "Application shutdown complete" in log
    assert "database at revision" in log
    # Plain JSON lines, no ANSI colour codes (issue 21: uvicorn's color_message came through).
    lines = [line for line in log.splitlines() if line]
    assert all(json.loads(line)["level"] for line in lines), lines
    assert not [line for line in lines if "\x1b" in line or "\\u001b" in line]


def _login_waiting_on_wechat(url: str) -> None:
    with contextlib.suppress(httpx.TransportError):  # the server closed it at shutdown: what a stuck request may get
        httpx.post(url + "/api/auth/wx-login", json={"code": "stuck"}, timeout=30)


def test_cloud_run_keeps_an_instance_for_the_watcher_and_the_outbox() -> None:
    """WeChat Cloud Run's service settings: scaled to zero, notifications stop (docs/deploy.md)."""
    config = json.loads((ROOT / "container.config.json").read_text(encoding="utf-8"))
    assert config["minNum"] >= 1
    port = re.search(r"^ENV .*\bPORT=(\d+)", (ROOT / "Dockerfile").read_text(encoding="utf-8"), flags=re.M)
    assert port and config["containerPort"] == int(port.group(1))
    assert config["dockerfilePath"] == "Dockerfile"
    assert not {k for k in config["envParams"] if "SECRET" in k or "KEY" in k or "PASSWORD" in k}  # secrets: console only
