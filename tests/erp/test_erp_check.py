"""``bff erp check`` against the simulator: it names each dialect right, fails on broken reads,
and prints no value of any record."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bff.erp.check import attachment_shape, check, guess_setting
from bff.erp.client import ErpClientConfig
from bff.erp.guesses import GUESS_NAMES
from bff.sim.erp import ErpSim, create_app
from bff.sim.erp.dialect import ALLOWED
from bff.web.serving import RunningServer, start_server

DETECTED = {  # each dialect key the check can observe, and values to try beside the default
    "login_reply": ["json-other", "empty", "html"],
    "expiry": ["redirect", "success-false", "html"],
    "attachments": ["list", "string", "objects", "empty"],
    "attachments_in_list": ["yes"],
    "logistics_in_list": ["yes"],
    "line_links": ["present"],
    "numbers": ["strings"],
    "dates": ["s", "iso"],
    "statuses": ["unknown"],
    "customer_list": ["ignored", "nothing"],
    # The guessed shapes the BFF tries only while the ERP keeps to them (bff/erp/guesses.py).
    "product_ids": ["honoured", "refused"],
    "code_filter": ["honoured"],
    "line_order_filter": ["honoured"],
}
GUESS_STATES = {"ignored": "ignored", "honoured": "holds", "refused": "refused", "any-of": "holds", "nothing": "ignored",
                "derived": "holds", "frozen": "ignored"}  # dialect value -> verdict


@dataclass
class Running:
    sim: ErpSim
    server: RunningServer
    control: httpx.AsyncClient

    def config(self) -> ErpClientConfig:
        demo = self.sim.demo_info()
        return ErpClientConfig(
            login_url=self.server.url, base_url=self.server.url, app_id=demo["app_id"], app_name=demo["app_name"],
            account=demo["service"]["account"], password=demo["service"]["password"],
        )

    async def speak(self, **dialect: str) -> None:
        (await self.control.post("/__sim/dialect/reset")).raise_for_status()
        (await self.control.post("/__sim/dialect", json=dialect)).raise_for_status()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def running() -> AsyncIterator[Running]:
    sim = ErpSim()
    server = await start_server(create_app(sim=sim))
    async with httpx.AsyncClient(base_url=server.url) as control:
        yield Running(sim, server, control)
    await server.stop()


@pytest.mark.parametrize("key, value", [(k, v) for k, values in DETECTED.items() for v in values] + [("default", "")])
async def test_check_reports_the_dialect_spoken(running: Running, key: str, value: str) -> None:
    await running.speak(**({key: value} if key != "default" else {}))
    spoken = (await running.control.get("/__sim/dialect")).json()["dialect"]
    report = await check(running.config(), running.sim.demo_customer.id)
    found = report.dialect()
    assert {k: found.get(k) for k in DETECTED} == {k: spoken[k] for k in DETECTED}, report.as_table()
    assert report.ok, report.as_table()
    expected = "BFF_ERP_DELIVERY_LINES=" + ("parent-list" if spoken["line_links"] == "present" else "per-delivery")
    assert expected in report.settings()
    # A delivery's detail is read when its list row lacks the carrier or the attachments.
    files_in_list = found.get("attachments_in_list") == "yes"
    assert ("BFF_ERP_LOGISTICS_DETAIL=true" in report.settings()) == (spoken["logistics_in_list"] == "no" or not files_in_list)
    # The watcher's batched read: a customerId list the ERP does not honour means one read per customer.
    assert ("BFF_ERP_GUESS_CUSTOMER_LIST=off" in report.settings()) == (spoken["customer_list"] != "any-of")
    findings = {f.name: f.result for f in report.findings}
    assert findings["sales orders: producedRate and shippedRate follow the lines (the watcher's digest)"] == "holds"


@pytest.mark.parametrize("key, value", [(k, v) for k in GUESS_NAMES for v in ALLOWED[k]])
async def test_check_names_each_guess_and_the_setting_that_pins_it(running: Running, key: str, value: str) -> None:
    """Each guessed shape, as the simulator answers it: holds (pinned on), ignored or refused
    (pinned off); the check passes either way: the BFF has an evidenced fallback."""
    await running.speak(**{key: value})
    report = await check(running.config(), running.sim.demo_customer.id)
    state = GUESS_STATES[value]
    assert report.guesses()[key] == state, report.as_table()
    setting = "BFF_ERP_GUESS_" + key.upper()
    assert f"{setting}={'on' if state == 'holds' else 'off'}" in report.settings()
    assert f"{setting}={'off' if state == 'holds' else 'on'}" not in report.settings()
    assert report.ok, report.as_table()
    finding = next(f for f in report.findings if f.guess == key)
    assert not finding.required and finding.dialect == f"{key}={value}"


async def test_default_dialect_passes_with_every_guess_ignored(running: Running) -> None:
    """The evidence's dialect: every guess ignored, each pinned off, the check passes; the
    evidenced shapes the pages rely on all hold."""
    await running.speak()
    report = await check(running.config(), running.sim.demo_customer.id)
    assert report.ok, report.as_table()
    assert report.guesses() == {"code_filter": "ignored", "line_order_filter": "ignored", "product_ids": "ignored",
                                "customer_list": "holds", "order_rates": "holds"}, report.as_table()
    assert {"BFF_ERP_GUESS_CODE_FILTER=off", "BFF_ERP_GUESS_LINE_ORDER_FILTER=off",
            "BFF_ERP_GUESS_PRODUCT_IDS=off"} <= set(report.settings())
    evidenced = {f.name.rsplit("(", 1)[-1].rstrip(")"): f for f in report.findings if "(queries." in f.name}
    assert sorted(evidenced) == ["queries.deliveries_of_order", "queries.lines_matching", "queries.lines_of_order",
                                 "queries.order_by_code_text", "queries.recent_deliveries"], report.as_table()
    assert all(f.result == "holds" and f.required for f in evidenced.values()), report.as_table()
    findings = {f.name: f for f in report.findings}
    assert findings["delivery detail (getBusiness) carries logisticsCompanyId and attachments"].result == "holds"
    assert "guesses: code_filter=ignored line_order_filter=ignored product_ids=ignored" in report.as_table()


async def test_guess_settings_are_the_bffs() -> None:
    """The settings the check prints are the ones the BFF reads."""
    from bff.core.config import Settings

    for name in GUESS_NAMES:
        assert guess_setting(name).removeprefix("BFF_").lower() in Settings.model_fields


P = "35/693ce2cba75b1057af4975bb/f8a9cb6bdeef473b9e14fd0538349154"


@pytest.mark.parametrize("values, shape", [
    ([[f"{P}#size=1&name=a.pdf"], None, [f"{P}#name=%E7%94%B2.pdf&size=2", f"{P}#size=3"]], "query"),  # the evidence
    ([[f"{P}#a.pdf"], [], [P]], "list"),  # bare names
    ([[f"{P}#size=1&name=a.pdf", f"{P}#a.pdf"]], "mixed"),
    ([f"{P}#size=1&name=a.pdf,{P}#b.pdf"], "string"),
    ([[{"path": P, "name": "a.pdf"}]], "objects"),
    ([None, "", []], "empty"),
])
def test_attachment_shape_names_the_evidenced_query_string(values: list[Any], shape: str) -> None:
    assert attachment_shape(values) == shape


@pytest.mark.parametrize("dialect", [{}, {"attachments_in_list": "yes"}, {"attachments": "list"}])
async def test_check_reports_attachments_by_their_shape(running: Running, dialect: dict[str, str]) -> None:
    """Default: the evidenced query string, found in getBusiness detail (list rows carry none);
    the download tells what the ERP declared and what the bytes are."""
    await running.speak(**dialect)
    report = await check(running.config(), running.sim.demo_customer.id)
    findings = {f.name: f for f in report.findings}
    shape = findings['deliveries: attachments shape (evidenced: list of "<path>#size=…&name=…")']
    if dialect.get("attachments") == "list":
        assert shape.result == "fails" and shape.detail.startswith("list: ")
    else:
        assert shape.result == "holds" and shape.detail == 'query: a list of "<path>#size=<bytes>&name=<URL-encoded name>" (the evidenced shape)'
    in_list = findings["deliveries: list rows carry attachments"]
    assert in_list.dialect == f"attachments_in_list={dialect.get('attachments_in_list', 'no')}"
    download = findings["attachment download with the session cookies"]
    assert download.result == "holds"
    assert re.fullmatch(r"declared [a-z./-]+, bytes (application/pdf|image/(png|jpeg)|application/vnd\.openxmlformats[a-z.-]+), \d+ bytes", download.detail), download.detail


async def run_cli(running: Running, *args: str) -> tuple[int, str]:
    demo = running.sim.demo_info()
    env = {
        **os.environ, "BFF_ENV": "development", "BFF_ERP_BASE_URL": running.server.url,
        "BFF_ERP_LOGIN_URL": running.server.url, "BFF_ERP_ACCOUNT": demo["service"]["account"],
        "BFF_ERP_PASSWORD": demo["service"]["password"],
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bff.cli", "erp", "check", "--customer", running.sim.demo_customer.id, *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, output.decode()


def leaked(sim: ErpSim, output: str) -> list[str]:
    """Seeded values standing in the output as whole tokens (``10029`` inside ``100292`` is not one)."""
    return sorted(v for v in seeded_values(sim) if re.search(rf"(?<![0-9A-Za-z]){re.escape(v)}(?![0-9A-Za-z])", output))


def seeded_values(sim: ErpSim) -> set[str]:
    """Every text value of the demo customer's records (and the service account's secrets)."""
    demo = sim.demo_info()
    values = {demo["service"]["password"], demo["customer"]["name"], demo["customer"]["invite_code"]}
    for form in sim.forms.values():
        for record in form.values():
            if str(record.get("customerId") or record.get("customerOrSupplierId") or record.get("id")) != sim.demo_customer.id:
                continue
            for key, value in record.items():
                if key not in ("id", "status", "finished") and isinstance(value, str) and len(value) >= 4:
                    values.add(value)
    return values


async def test_cli_prints_no_value_and_exits_zero(running: Running) -> None:
    await running.speak(attachments="string", line_links="present", logistics_in_list="yes")
    code, output = await run_cli(running)
    assert code == 0, output
    assert "holds" in output and "dialect:" in output
    assert len(seeded_values(running.sim)) > 100  # the search below has something to find
    assert not leaked(running.sim, output)
    code, output = await run_cli(running, "--json")
    assert code == 0 and '"ok": true' in output
    assert not leaked(running.sim, output)


async def test_cli_exits_non_zero_when_reads_are_broken(running: Running) -> None:
    await running.speak()
    (await running.control.post("/__sim/faults", json={"malformed_rate": 1.0, "paths": ["/business"]})).raise_for_status()
    try:
        code, output = await run_cli(running)
    finally:
        (await running.control.post("/__sim/faults/reset")).raise_for_status()
    assert code == 1, output
    assert "fails" in output and "FAILED" in output


async def test_check_never_writes(running: Running) -> None:
    await running.speak()
    (await running.control.post("/__sim/stats/reset")).raise_for_status()
    report = await check(running.config(), running.sim.demo_customer.id)
    endpoints: dict[str, Any] = (await running.control.get("/__sim/stats")).json()["endpoints"]
    assert report.ok and not any("update" in name.lower() for name in endpoints)
