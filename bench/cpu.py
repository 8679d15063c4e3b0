"""CPU per request, per operation, side by side with the floor (a bare strawberry ``{ hello }``).

    .venv/bin/python bench/cpu.py --erp-latency-ms 50 --requests 300

The ERP and WeChat simulators run in this process; the BFF (``bff serve``, production
mode, SQLite, memory cache) and the floor app (``bench/hello_app.py``) each run in a
process of their own under uvicorn, and only *their* CPU time (user + system, from
/proc) is counted: the load generator and the simulators are not. Requests go with a
few at a time over keep-alive connections; CPU-ms per request = CPU time / requests.

    .venv/bin/python bench/cpu.py --instructions --requests 100 --rounds 1 --concurrency 2

counts instructions instead (both servers under valgrind's callgrind): the same figure run
after run, for comparing two versions of the code on a machine whose speed wanders.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from statistics import median

import httpx
from common import REDIS, ROOT, Simulators, cpu_seconds, document_ids, drop_database, free_port, fresh_database, wait_listening

# The mini program's own trusted documents (by operation name) and their variables. The home
# screen with one card is its part that does not grow with the ERP's answer.
OPERATIONS: dict[str, tuple[str, dict[str, object]]] = {
    "me (mini program Me)": ("Me", {}),
    "home screen (mini program Home, 20 orders)": ("Home", {"pageSize": 20}),
    "home screen with 1 order": ("Home", {"pageSize": 1}),
    "order detail (mini program OrderDetail)": ("OrderDetail", {}),
}


class CpuMeter:
    """CPU-ms (user + system) of a process, from /proc."""

    unit = "CPU ms"

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._before = 0.0

    def start(self) -> None:
        self._before = cpu_seconds(self.pid)

    def stop(self) -> float:
        return (cpu_seconds(self.pid) - self._before) * 1000


class InstructionMeter:
    """Millions of instructions a process runs (valgrind's callgrind, instrumentation switched on
    only while measuring): slow (about 45×), but the same count run after run, whatever else the
    machine does, so two versions of the code compare exactly."""

    unit = "M instructions"

    def __init__(self, pid: int, out_dir: Path) -> None:
        self.pid = pid
        self._out_dir = out_dir

    @staticmethod
    def command(out_dir: Path) -> list[str]:
        return ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_dir}/cg.%p"]

    def _control(self, *args: str) -> None:
        subprocess.run(["callgrind_control", *args, str(self.pid)], check=True, capture_output=True)

    def start(self) -> None:
        self._control("--zero")
        self._control("--instr=on")

    def stop(self) -> float:
        self._control("--instr=off")
        self._control("--dump")
        dumps = sorted(self._out_dir.glob(f"cg.{self.pid}.*"), key=lambda f: int(f.suffix[1:]))
        totals = next(line for line in dumps[-1].read_text().splitlines() if line.startswith("totals:"))
        return int(totals.split()[1]) / 1e6


Meter = CpuMeter | InstructionMeter


async def measure(
    meter: Meter, requests: int, concurrency: int, send: Callable[[], Awaitable[None]], profile: Path | None = None
) -> float:
    """What the server spends per request (the meter's unit), after a warm-up; with ``profile``,
    py-spy samples it meanwhile (its own overhead then inflates the figure: profile and measure
    in separate runs)."""
    for _ in range(20):
        await send()
    spy = None
    if profile is not None:
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(meter.pid), "--format", "raw", "-o", str(profile)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await asyncio.sleep(1)
    meter.start()
    remaining = [requests]

    async def worker() -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            await send()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    spent = meter.stop()
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=30)
    return spent / requests


def _spread(figures: list[float]) -> str:
    return " / ".join(f"{f:.2f}" for f in figures)


async def main(
    latency_ms: float, requests: int, rounds: int, concurrency: int, profile_dir: Path | None, backend: str,
    instructions: bool,
) -> None:
    sims = await Simulators.start()
    database = await fresh_database() if backend == "mariadb" else None
    port, floor_port = free_port(), free_port()
    sqlite = "sqlite+aiosqlite:///" + os.path.join(tempfile.mkdtemp(), "cpu.sqlite3")
    env = {**sims.bff_env(database[1] if database else sqlite, REDIS if database else ""),
           "BFF_MAX_INFLIGHT": "64", "BFF_MAX_QUEUED": "64"}
    bff_bin = str(Path(sys.executable).parent / "bff")
    subprocess.run([bff_bin, "migrate"], env=env, check=True, capture_output=True)
    counts = Path(tempfile.mkdtemp(prefix="callgrind-")) if instructions else None
    under = InstructionMeter.command(counts) if counts else []
    server = subprocess.Popen([*under, bff_bin, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    floor = subprocess.Popen(
        [*under, sys.executable, "-m", "uvicorn", "bench.hello_app:app", "--port", str(floor_port), "--log-level", "warning"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )

    def meter(process: subprocess.Popen[bytes]) -> Meter:
        return InstructionMeter(process.pid, counts) if counts else CpuMeter(process.pid)

    try:
        base, floor_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{floor_port}"
        tries = 3000 if instructions else 300  # valgrind starts a process some 40 times slower
        await wait_listening(base + "/api/health/check?probe=live", server, tries)
        await wait_listening(floor_url + "/graphql", floor, tries)
        sims.erp_sim.set_faults(latency_ms=latency_ms)
        limits = httpx.Limits(max_connections=concurrency)
        per_round = max(1, requests // rounds)
        floor_cost: list[float] = []  # per request, in the meter's unit
        cost: dict[str, list[float]] = {name: [] for name in OPERATIONS}
        async with (
            httpx.AsyncClient(base_url=floor_url, timeout=30, limits=limits) as floor_http,
            httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http,
        ):

            async def hello() -> None:
                (await floor_http.post("/graphql", json={"query": "{ hello }"})).raise_for_status()

            headers = {"Authorization": f"Bearer {await sims.bound_token(http, 'bench-cpu')}"}
            ids = document_ids()
            home = {"documentId": ids["Home"], "variables": {"pageSize": 20}}
            first = (await http.post("/graphql", json=home, headers=headers)).json()
            order_id = first["data"]["orders"]["items"][0]["id"]
            # Rounds interleave the floor and the operations, so a neighbour's noise on this
            # machine falls on both: the ratio is taken per round, and the median reported.
            for round_no in range(rounds):
                floor_cost.append(await measure(meter(floor), per_round, concurrency, hello))
                for name, (operation, given) in OPERATIONS.items():
                    variables = {"id": order_id} if operation == "OrderDetail" else given

                    async def send(document: str = ids[operation], variables: dict[str, object] = variables) -> None:
                        answer = await http.post("/graphql", json={"documentId": document, "variables": variables}, headers=headers)
                        body = answer.json()
                        if answer.status_code != 200 or body.get("errors"):
                            raise RuntimeError(answer.text[:300])

                    profile = None
                    if profile_dir and round_no == 0:
                        profile = profile_dir / f"{operation}{given.get('pageSize', '')}.txt"
                    cost[name].append(await measure(meter(server), per_round, concurrency, send, profile))
        unit = InstructionMeter.unit if instructions else CpuMeter.unit
        print(f"{unit} per request: {rounds} rounds of {per_round} requests per operation, {concurrency} at a time, "
              f"ERP simulator at {latency_ms:.0f} ms, BFF in production mode on {backend}, {os.cpu_count()} cores\n")
        print("Medians over the rounds; the ratio is the median of each round's own ratio to its floor.\n")
        print(f"| operation | {unit} / request | × floor | rounds |")
        print("|---|---|---|---|")
        print(f"| floor: bare strawberry `{{ hello }}` | {median(floor_cost):.2f} | 1.0 | {_spread(floor_cost)} |")
        for name, figures in cost.items():
            ratio = median(f / fl for f, fl in zip(figures, floor_cost, strict=True))
            print(f"| {name} | {median(figures):.2f} | {ratio:.1f} | {_spread(figures)} |")
    finally:
        for process in (server, floor):
            process.terminate()
            process.wait(timeout=60)
        await sims.stop()
        if database is not None:
            await drop_database(database[0])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--erp-latency-ms", type=float, default=50.0)
    parser.add_argument("--requests", type=int, default=300, help="per operation, over all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--backend", choices=["sqlite", "mariadb"], default="sqlite",
                        help="sqlite + memory cache (the embedded default) or MariaDB + Redis (production's)")
    parser.add_argument("--profile-dir", type=Path, help="py-spy collapsed stacks per operation (pip install py-spy)")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under valgrind's callgrind instead of CPU time (exact; ~45× slower)")
    args = parser.parse_args()
    started = time.monotonic()
    if args.profile_dir is not None:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(args.erp_latency_ms, args.requests, args.rounds, args.concurrency, args.profile_dir, args.backend,
                     args.instructions))
    print(f"\n({time.monotonic() - started:.0f} s)")
