"""A redis-server of a test's own, which the test may kill (the shared one serves others)."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator

import pytest

from tests.support import IN_CI, free_port


class PrivateRedis:
    """A redis-server of this test's own, which it may kill (the shared one serves others)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                subprocess.run(["sleep", "0.02"])
        raise RuntimeError("redis-server did not listen")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("redis-server is required in CI")
        pytest.skip("redis-server not installed")
    server = PrivateRedis()
    server.start()
    yield server
    if server.process and server.process.poll() is None:
        server.kill()


