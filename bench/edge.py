"""The edge under attack: a purchaser's home-screen latency on an idle instance, then while it is attacked.

    .venv/bin/python bench/edge.py --erp-latency-ms 50 --requests 100

One `bff serve` in production mode on a fresh MariaDB database and Redis (flushed), with the
default edge and admission settings (24 requests at once, 48 waiting, 6 places per purchaser,
12 per company, 10 s for headers, 30 s for a body); the ERP and WeChat simulators in this
process. A purchaser of one company sends the mini program's trusted ``Home`` document (20
orders), one request after another, ``--requests`` per phase: on the idle instance; while
another process (``--attack``) keeps up the slow clients and the operations hammering; while
it keeps up all three:

* 50 slow bodies and 500 slow headers, a byte every 0.2 s each, reopened whenever the BFF
  closes them (408 at its deadlines);
* 20 keep-alive connections sending ``GET /metrics`` (10) and ``GET /api/health/check`` (10)
  back to back (from loopback: /metrics is answered, rendered at most once a second);
* 40 keep-alive connections of another company's 10 purchasers (4 each, within their own
  share) sending ``Home`` back to back, again at once after a ``503``: the company's burst.
  Each of them opened the mini program first (one ``Home``), as a purchaser does, so the
  instance knows their company (bff/web/admission.py).

Reported per phase: the purchaser's p50 / p99 / max latency, its answers that were not a clean
live 200, and the CPU the BFF process used; what the attack got (by status) and the instance's
refusals by reason (``bff_admission_rejected_total``). The attack runs on the same cores as
the BFF: its own CPU is part of what the purchaser's latency measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from statistics import quantiles
from typing import Any

import httpx
from common import REDIS, ProcessStack, cpu_seconds, document_ids, free_port, wait_listening

SLOW_HEADERS = 500
SLOW_BODIES = 50
OPS_CONNECTIONS = 10  # each for /metrics and for /api/health/check
BURST_USERS = 10
BURST_PER_USER = 4
TRICKLE_S = 0.2


# --- the attack (its own process) -------------------------------------------------------------

class Attack:
    def __init__(self, host: str, port: int, tokens: list[str], home: bytes, parts: list[str]) -> None:
        self.host, self.port, self.tokens, self.home, self.parts = host, port, tokens, home, parts
        self.stopping = False
        self.statuses: Counter[str] = Counter()  # "<what> <status>"
        self.reopened = 0
        self.opened = 0  # slow connections opened at least once
        self.on = asyncio.Event()  # every slow connection open and the hammers answering

    def _check(self) -> None:
        slow = SLOW_HEADERS + SLOW_BODIES if "slow" in self.parts else 0
        if self.opened >= slow and sum(self.statuses.values()) >= 100:
            self.on.set()

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port)

    def _head(self, method: str, path: str, token: str = "", length: int | None = None) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", "Host: bff"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if length is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {length}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def slow(self, opening: bytes) -> None:
        """Opens, sends ``opening``, then a byte every TRICKLE_S; again when the BFF closes it."""
        first_done = False
        while not self.stopping:
            try:
                _, writer = await self._open()
                writer.write(opening)
                if not first_done:
                    first_done, self.opened = True, self.opened + 1
                    self._check()
                while not self.stopping and not writer.is_closing():
                    await asyncio.sleep(TRICKLE_S)
                    writer.write(b"a")  # a header value's or a JSON body's next byte
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            else:
                writer.close()
            self.reopened += 0 if self.stopping else 1

    async def hammer(self, what: str, request: bytes) -> None:
        """The same request over one keep-alive connection, back to back (reconnecting if closed)."""
        while not self.stopping:
            try:
                reader, writer = await self._open()
                while not self.stopping:
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    status = head.split(b" ", 2)[1].decode()
                    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                    await reader.readexactly(int(length.group(1)) if length else 0)
                    self.statuses[f"{what} {status}"] += 1
                    self._check()
                writer.close()
            except (ConnectionError, OSError, asyncio.IncompleteReadError):
                self.statuses[f"{what} closed"] += 1

    async def run(self) -> None:
        body_head = self._head("POST", "/graphql", self.tokens[0], 1000) + b'{"query": "'
        header_head = b"POST /graphql HTTP/1.1\r\nHost: bff\r\nX-Slow: "  # never the end of the headers
        tasks: list[asyncio.Future[None]] = []
        if "slow" in self.parts:
            tasks += [asyncio.ensure_future(self.slow(header_head)) for _ in range(SLOW_HEADERS)]
            tasks += [asyncio.ensure_future(self.slow(body_head)) for _ in range(SLOW_BODIES)]
        if "ops" in self.parts:
            for what, path in (("metrics", "/metrics"), ("health", "/api/health/check")):
                tasks += [asyncio.ensure_future(self.hammer(what, self._head("GET", path))) for _ in range(OPS_CONNECTIONS)]
        if "burst" in self.parts:
            for token in self.tokens:
                request = self._head("POST", "/graphql", token, len(self.home)) + self.home
                tasks += [asyncio.ensure_future(self.hammer("burst", request)) for _ in range(BURST_PER_USER)]
        await self.on.wait()
        print("attacking", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the benchmark closes it
        self.stopping = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        print(json.dumps({"statuses": dict(self.statuses), "reopened": self.reopened}), flush=True)


def attack_main(plan_file: str) -> None:
    plan = json.loads(Path(plan_file).read_text())
    asyncio.run(Attack("127.0.0.1", plan["port"], plan["tokens"], plan["home"].encode(), plan["parts"]).run())


# --- the benchmark ----------------------------------------------------------------------------

def _fault(answer: httpx.Response) -> str | None:
    """Why an answer is not a clean live home screen (None: it is)."""
    body = answer.json()
    if answer.status_code != 200:
        return f"{answer.status_code} {body.get('error', {}).get('code')}"
    if "errors" in body:
        return str(body["errors"][0]["extensions"].get("code"))
    return "stale" if body["data"]["orders"]["stale"] else None


async def purchaser(http: httpx.AsyncClient, home: dict[str, Any], token: str, requests: int) -> tuple[list[float], Counter[str]]:
    """Home screens one after another: their latencies (ms) and what the unclean ones were."""
    latencies: list[float] = []
    faults: Counter[str] = Counter()
    for _ in range(requests):
        started = time.perf_counter()
        answer = await http.post("/graphql", json=home, headers={"Authorization": f"Bearer {token}"})
        latencies.append((time.perf_counter() - started) * 1000)
        if (fault := _fault(answer)) is not None:
            faults[fault] += 1
    return latencies, faults


def _row(phase: str, latencies: list[float], faults: Counter[str]) -> str:
    cuts = quantiles(latencies, n=100, method="inclusive")
    unclean = ", ".join(f"{n} {why}" for why, n in faults.items()) or "0"
    return f"| {phase} | {len(latencies)} | {cuts[49]:.0f} | {cuts[98]:.0f} | {max(latencies):.0f} | {unclean} |"


async def refusals(http: httpx.AsyncClient) -> dict[str, float]:
    text = (await http.get("/metrics")).text
    return {m[0]: float(m[1]) for m in re.findall(r'bff_admission_rejected_total\{[^}]*reason="(\w+)"[^}]*\} ([\d.e+]+)', text)}


PHASES = [  # (name, what attacks)
    ("idle", []),
    ("slow bodies and headers + /metrics and health hammered", ["slow", "ops"]),
    ("all that + one company's 40-connection burst", ["slow", "ops", "burst"]),
]


async def run_phase(http: httpx.AsyncClient, pid: int, port: int, phase: str, parts: list[str], home: dict[str, Any],
                    measured: str, crowd: list[str], requests: int) -> tuple[str, str]:
    """The purchaser's figures while ``parts`` of the attack run (in a process of their own);
    the table's row, and what the attack got."""
    attacker = None
    if parts:
        before = await refusals(http)
        plan = Path(tempfile.mkdtemp()) / "attack.json"
        plan.write_text(json.dumps({"port": port, "tokens": crowd, "home": json.dumps(home), "parts": parts}))
        attacker = subprocess.Popen([sys.executable, __file__, "--attack", str(plan)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert attacker.stdout is not None and attacker.stdin is not None
        assert (await asyncio.to_thread(attacker.stdout.readline)).strip() == "attacking"
    try:
        started, cpu = time.monotonic(), cpu_seconds(pid)
        latencies, faults = await purchaser(http, home, measured, requests)
        seconds = time.monotonic() - started
        row = _row(phase, latencies, faults) + f" {(cpu_seconds(pid) - cpu) / seconds:.2f} |"
        if attacker is None:
            return row, ""
        assert attacker.stdout is not None and attacker.stdin is not None
        attacker.stdin.close()
        report = json.loads(await asyncio.to_thread(attacker.stdout.readline))
        attacker.wait(timeout=60)
    finally:
        if attacker is not None and attacker.poll() is None:
            attacker.kill()
    await asyncio.sleep(1.1)  # /metrics is rendered at most once per BFF_OPS_REFRESH_S (1 s)
    after = await refusals(http)
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(report["statuses"].items()))
    refused = ", ".join(f"{k} {after.get(k, 0) - before.get(k, 0):.0f}" for k in ("full", "user", "company"))
    return row, (f"{phase} ({seconds:.0f} s): {statuses}; slow connections reopened after the BFF closed them: "
                 f"{report['reopened']}; refusals (503) by reason: {refused}")


async def main(latency_ms: float, requests: int, redis_url: str) -> None:
    stack = await ProcessStack.start(latency_ms, redis_url)
    sims, env = stack.sims, stack.env
    bff_bin = str(Path(sys.executable).parent / "bff")
    subprocess.run([bff_bin, "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([bff_bin, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await wait_listening(f"http://127.0.0.1:{port}/api/health/check?probe=live", server)
        home = {"documentId": document_ids()["Home"], "variables": {"pageSize": 20}}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            measured = await sims.bound_token(http, "bench-edge-purchaser", other_company=True)
            crowd = [await sims.bound_token(http, f"bench-edge-crowd-{i}") for i in range(BURST_USERS)]
            for token in crowd:  # each opens the mini program once: the instance learns their company
                assert _fault(await http.post("/graphql", json=home, headers={"Authorization": f"Bearer {token}"})) is None
            await purchaser(http, home, measured, 20)  # warm-up
            rows = []
            for phase, parts in PHASES:
                rows.append(await run_phase(http, server.pid, port, phase, parts, home, measured, crowd, requests))
        print(f"Edge under attack: a purchaser's home screen (trusted `Home`, 20 orders), {requests} requests one after "
              f"another per phase; ERP simulator at {latency_ms:.0f} ms; `bff serve` in production mode on MariaDB + "
              f"Redis, default admission; {os.cpu_count()} cores shared with the attack process\n")
        print("| phase | requests | p50 ms | p99 ms | max ms | not clean 200 | BFF CPU (share of a core) |")
        print("|---|---|---|---|---|---|---|")
        for row in rows:
            print(row[0])
        for row in rows:
            if row[1]:
                print(f"\n{row[1]}")
    finally:
        await stack.tear_down([server])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--erp-latency-ms", type=float, default=50.0)
    parser.add_argument("--requests", type=int, default=100, help="the purchaser's, per phase")
    parser.add_argument("--redis-url", default=REDIS, help="flushed first")
    parser.add_argument("--attack", help=argparse.SUPPRESS)  # the attacking process: its plan's file
    args = parser.parse_args()
    if args.attack:
        attack_main(args.attack)
    else:
        asyncio.run(main(args.erp_latency_ms, args.requests, args.redis_url))
