"""CPU per request, per operation, side by side with the floor (a bare strawberry ``{ hello }``).

    .venv/bin/python bench/cpu.py --erp-latency-ms 50 --requests 300

The ERP and WeChat simulators run in this process; the BFF (``bff serve``, production
mode, SQLite, memory cache) and the floor app (``bench/hello_app.py``) each run in a
process of their own under uvicorn, and only *their* CPU time (user + system, from
/proc) is counted: the load generator and the simulators are not. Requests go with a
few at a time over keep-alive connections; CPU-ms per request = CPU time / requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from bff.web.serving import start_server
from bff.sim.erp import ErpSim, ErpSimConfig
from bff.sim.erp import create_app as create_erp_app
from bff.sim.wechat import WechatSim, WechatSimConfig
from bff.sim.wechat import create_app as create_wechat_app

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
MANIFEST = ROOT / "bff" / "web" / "persisted-documents.json"
# The mini program's own trusted documents (production accepts nothing else), by operation name.
OPERATIONS: dict[str, str] = {
    "me (mini program Me)": "Me",
    "home screen (mini program Home, 20 orders)": "Home",
    "order detail (mini program OrderDetail)": "OrderDetail",
}


def document_ids() -> dict[str, str]:
    """Operation name -> its ``sha256:`` id in the manifest."""
    ids: dict[str, str] = {}
    for key, text in json.loads(MANIFEST.read_text()).items():
        for word in ("query", "mutation"):
            head = text.strip()
            if head.startswith(word + " "):
                ids[head[len(word) + 1:].split("(", 1)[0].split("{", 1)[0].strip()] = key
    return ids


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_listening(url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"{url}: server exited")
            try:
                await http.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url}: not listening")


async def measure(
    pid: int, requests: int, concurrency: int, send: Callable[[], Awaitable[None]], profile: Path | None = None
) -> float:
    """CPU-ms of process ``pid`` per request, after a warm-up; with ``profile``, py-spy samples it
    meanwhile (its own overhead then inflates the figure: profile and measure in separate runs)."""
    for _ in range(20):
        await send()
    spy = None
    if profile is not None:
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--format", "raw", "-o", str(profile)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await asyncio.sleep(1)
    before = cpu_seconds(pid)
    remaining = [requests]

    async def worker() -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            await send()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    spent = cpu_seconds(pid) - before
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=30)
    return spent * 1000 / requests


async def main(latency_ms: float, requests: int, concurrency: int, profile_dir: Path | None) -> None:
    erp_sim = ErpSim(ErpSimConfig())
    wx_sim = WechatSim(WechatSimConfig(appid="wx-bench-appid", secret=secrets.token_hex(24)))
    erp = await start_server(create_erp_app(sim=erp_sim))
    wechat = await start_server(create_wechat_app(sim=wx_sim))
    demo = erp_sim.demo_info()
    port, floor_port = free_port(), free_port()
    env = {
        **os.environ, "BFF_ENV": "production", "BFF_NOTIFY_ENABLED": "false", "BFF_CALL_LOG_ENABLED": "true",
        "BFF_DATABASE_URL": "sqlite+aiosqlite:///" + os.path.join(tempfile.mkdtemp(), "cpu.sqlite3"),
        "BFF_REDIS_URL": "", "BFF_SECRET_KEY": secrets.token_hex(32), "BFF_DATA_KEY": secrets.token_hex(32),
        "BFF_WX_BASE_URL": wechat.url, "BFF_WX_APPID": wx_sim.config.appid, "BFF_WX_SECRET": wx_sim.config.secret,
        "BFF_ERP_LOGIN_URL": erp.url, "BFF_ERP_BASE_URL": erp.url,
        "BFF_ERP_ACCOUNT": demo["service"]["account"], "BFF_ERP_PASSWORD": demo["service"]["password"],
        "BFF_MAX_INFLIGHT": "64", "BFF_MAX_QUEUED": "64", "BFF_PUBLIC_URL": "https://bench.invalid",
        # One user sends every request: the per-user limits would measure the limiter, not the CPU.
        "BFF_RATE_LIMIT_USER": "1000000/minute", "BFF_RATE_LIMIT_IP": "1000000/minute",
        "BFF_RATE_LIMIT_GLOBAL": "1000000/minute", "BFF_ERP_CALLS_PER_USER": "100000000/hour",
    }
    bff_bin = str(Path(sys.executable).parent / "bff")
    subprocess.run([bff_bin, "migrate"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([bff_bin, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    floor = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.hello_app:app", "--port", str(floor_port), "--log-level", "warning"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        base, floor_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{floor_port}"
        await wait_listening(base + "/api/health/check?probe=live", server)
        await wait_listening(floor_url + "/graphql", floor)
        erp_sim.set_faults(latency_ms=latency_ms)
        rows: list[tuple[str, float]] = []
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(base_url=floor_url, limits=limits) as http:

            async def hello() -> None:
                (await http.post("/graphql", json={"query": "{ hello }"})).raise_for_status()

            floor_ms = await measure(floor.pid, requests, concurrency, hello)
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
            code = (await http.post(wechat.url + "/__sim/wx-login", json={"user": "bench-cpu"})).json()["code"]
            token = (await http.post("/api/auth/wx-login", json={"code": code, "userInfo": {}})).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            bound = await http.post("/api/auth/erp-bind", json={"inviteCode": demo["customer"]["invite_code"]}, headers=headers)
            bound.raise_for_status()
            ids = document_ids()
            home = {"documentId": ids["Home"], "variables": {"pageSize": 20}}
            first = (await http.post("/graphql", json=home, headers=headers)).json()
            order_id = first["data"]["orders"]["items"][0]["id"]
            for name, operation in OPERATIONS.items():
                variables = {"Home": {"pageSize": 20}, "OrderDetail": {"id": order_id}}.get(operation, {})

                async def send(document: str = ids[operation], variables: dict[str, object] = variables) -> None:
                    answer = await http.post("/graphql", json={"documentId": document, "variables": variables}, headers=headers)
                    body = answer.json()
                    if answer.status_code != 200 or body.get("errors"):
                        raise RuntimeError(answer.text[:300])

                profile = profile_dir / f"{operation}.txt" if profile_dir else None
                rows.append((name, await measure(server.pid, requests, concurrency, send, profile)))
        print(f"CPU per request: {requests} requests per operation, {concurrency} at a time, ERP simulator at "
              f"{latency_ms:.0f} ms, BFF in production mode on SQLite + memory cache, {os.cpu_count()} cores\n")
        print("| operation | CPU ms / request | × floor |")
        print("|---|---|---|")
        print(f"| floor: bare strawberry `{{ hello }}` | {floor_ms:.2f} | 1.0 |")
        for name, ms in rows:
            print(f"| {name} | {ms:.2f} | {ms / floor_ms:.1f} |")
    finally:
        for process in (server, floor):
            process.terminate()
            process.wait(timeout=10)
        await erp.stop()
        await wechat.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--erp-latency-ms", type=float, default=50.0)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--profile-dir", type=Path, help="py-spy collapsed stacks per operation (pip install py-spy)")
    args = parser.parse_args()
    started = time.monotonic()
    asyncio.run(main(args.erp_latency_ms, args.requests, args.concurrency, args.profile_dir))
    print(f"\n({time.monotonic() - started:.0f} s)")
