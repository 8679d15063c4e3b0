"""/metrics, /api/erp/status + systemStatus, performance, health, trace ids: on the shared stack."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from bff.demo import DemoStack
from bff.monitor.logs import JsonFormatter
from bff.store.tables import ApiCallLog
from tests.monitor.helpers import admin_token
from tests.support import GraphQLClient, Sim, error_code, logged_rows, registered, unique_user

STATUS = "{ systemStatus { erpState lastCheckAt banner degraded detail { circuitState consecutiveFailures backupInUse } } }"


async def test_metrics_parse_as_prometheus_text_with_the_promised_families(gql: GraphQLClient, http: httpx.AsyncClient, sim: Sim) -> None:
    await gql(registered("Orders"), {"page": 1, "pageSize": 2})
    await sim.faults(outage=True)
    await gql('query MetricsMiss { orders(keyword: "never-seen-metrics") { total } }')  # a fallback miss
    await sim.reset_faults()
    answer = await http.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    names = " ".join(families)
    for expected in ("bff_request_duration", "bff_erp_duration", "bff_errors", "bff_fallback_lookups",
                     "bff_erp_circuit_state", "bff_erp_probe_state"):
        assert expected in names, (expected, names)
    samples = [s for f in families.values() for s in f.samples]
    assert any(s.labels.get("operation") == "Orders" for s in samples)
    assert any(s.labels.get("result") == "miss" and s.value >= 1 for s in samples)
    assert any(s.labels.get("code") == "ERP_UNAVAILABLE" for s in samples)


async def test_erp_anomalies_are_counted_by_form_and_field(gql: GraphQLClient, http: httpx.AsyncClient, stack: DemoStack) -> None:
    """An odd value in a live answer degrades its field and is counted (by name) on /metrics."""
    items = (await gql("{ orders(pageSize: 1) { items { id } } }"))["data"]["orders"]["items"]
    record = stack.erp_sim.forms[100001][items[0]["id"]]
    kept = record["remark"]
    record["remark"] = {"unforeseen": ["shape"]}  # as if the live ERP sent an object here
    try:
        answer = await gql("query($id: ID!) { order(id: $id) { id code remark } }", {"id": items[0]["id"]})
    finally:
        record["remark"] = kept
    assert "errors" not in answer and answer["data"]["order"]["remark"] is None
    families = {f.name: f for f in text_string_to_metric_families((await http.get("/metrics")).text)}
    samples = [s for s in families["bff_erp_anomalies"].samples if s.name == "bff_erp_anomalies_total"]
    assert any(s.labels["form"] == "100001" and s.labels["field"] == "remark" and s.value >= 1 for s in samples), samples


async def test_purchaser_sees_the_banner_view_and_administrator_the_detail(gql: GraphQLClient, http: httpx.AsyncClient, stack: DemoStack) -> None:
    mine = (await gql(STATUS))["data"]["systemStatus"]
    assert mine["erpState"] in ("UP", "DEGRADED", "DOWN", "UNKNOWN") and mine["detail"] is None
    admin = GraphQLClient(http, await admin_token(stack))
    full = (await admin(STATUS))["data"]["systemStatus"]
    assert full["detail"]["circuitState"] == "CLOSED" and full["detail"]["backupInUse"] is False
    rest = await http.get("/api/erp/status", headers={"Authorization": f"Bearer {admin.token}"})
    assert rest.status_code == 200 and rest.json()["status"]["detail"]["circuitState"] == "CLOSED"
    anonymous = await http.get("/api/erp/status")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "UNAUTHENTICATED"


@pytest.mark.backend  # call log rows, readiness of the store and cache, sessions revoked
async def test_performance_is_for_administrators_and_counts_this_operation(gql: GraphQLClient, http: httpx.AsyncClient, stack: DemoStack) -> None:
    for _ in range(3):
        await gql(registered("Orders"), {"page": 1, "pageSize": 1})
    await logged_rows(stack, select(ApiCallLog).where(ApiCallLog.operation == "Orders"), until=lambda rows: len(rows) >= 3)
    denied = await gql("{ performance(window: FIVE_MINUTES) { count } }")
    assert error_code(denied) == "FORBIDDEN"
    token = await admin_token(stack)
    answer = await http.get("/api/metrics/performance", params={"window": "5m"}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    ops = {o["operation"]: o for o in answer.json()["performance"]["operations"]}
    mine = ops["Orders"]
    assert mine["count"] >= 3 and mine["errorRate"] == 0 and mine["erpCallsPerRequest"] >= 1
    assert mine["p50Ms"] <= mine["p95Ms"] <= mine["p99Ms"]
    bad = await http.get("/api/metrics/performance", params={"window": "7d"}, headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "BAD_USER_INPUT"


@pytest.mark.backend  # call log rows, readiness of the store and cache, sessions revoked
async def test_health_reports_liveness_readiness_and_the_erp(http: httpx.AsyncClient) -> None:
    ready = await http.get("/api/health/check")
    body = ready.json()
    assert ready.status_code == 200 and body["ready"] is True and body["live"] is True
    assert body["erp"]["state"] in ("UP", "DEGRADED", "DOWN", "UNKNOWN") and body["erp"]["critical"] is False
    live = await http.get("/api/health/check", params={"probe": "live"})
    assert live.status_code == 200 and live.json() == {"status": "ok", "live": True}


@pytest.mark.backend  # call log rows, readiness of the store and cache, sessions revoked
async def test_trace_id_in_error_bodies_headers_call_log_and_log_lines(gql: GraphQLClient, http: httpx.AsyncClient, stack: DemoStack) -> None:
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    answer = await http.get("/api/orders/search", headers={"traceparent": parent})  # no token: an error
    assert answer.status_code == 401
    assert answer.json()["error"]["traceId"] == "0af7651916cd43dd8448eb211c80319c"
    assert answer.headers["x-trace-id"] == "0af7651916cd43dd8448eb211c80319c"
    payload = await gql('{ order(id: "no-such-order-trace") { id } }')
    assert len(payload["errors"][0]["extensions"]["traceId"]) == 32
    from sqlalchemy import text

    rows = await logged_rows(stack, text(
        "SELECT response_data FROM api_call_logs WHERE trace_id = '0af7651916cd43dd8448eb211c80319c'"
    ))
    assert rows and json.loads(rows[0][0]) == {"erpCalls": 0}
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(JsonFormatter().format(record))  # type: ignore[method-assign]
    logging.getLogger("bff.access").addHandler(handler)
    old_level = logging.getLogger("bff.access").level
    logging.getLogger("bff.access").setLevel(logging.INFO)
    try:
        await http.get("/api/health/check", headers={"traceparent": parent.replace("0af7", "1af7")})
    finally:
        logging.getLogger("bff.access").removeHandler(handler)
        logging.getLogger("bff.access").setLevel(old_level)
    lines = [json.loads(r) for r in records]
    assert any(line.get("traceId") == "1af7651916cd43dd8448eb211c80319c" and line["path"] == "/api/health/check" for line in lines)


async def test_dashboard_refuses_non_administrators(http: httpx.AsyncClient, stack: DemoStack) -> None:
    anonymous = await http.get("/admin")
    assert anonymous.status_code == 401 and 'action="/admin/login"' in anonymous.text
    assert (await http.get("/admin", params={"token": await admin_token(stack)})).status_code == 401  # never by URL
    purchaser = await http.get("/admin", headers={"Authorization": f"Bearer {stack.token}"})
    assert purchaser.status_code == 403 and purchaser.json()["error"]["code"] == "FORBIDDEN"
    page = await http.get("/admin", headers={"Authorization": f"Bearer {await admin_token(stack)}"})
    assert page.status_code == 200 and 'id="erp-state"' in page.text and 'id="probe-chart"' in page.text
    for answer in (anonymous, purchaser, page):
        assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["referrer-policy"] == "same-origin"


@pytest.mark.backend  # call log rows, readiness of the store and cache, sessions revoked
async def test_dashboard_login_sets_a_strict_cookie_and_revokes_users(http: httpx.AsyncClient, stack: DemoStack) -> None:
    token = await admin_token(stack)
    refused = await http.post("/admin/login", data={"token": stack.token})  # a purchaser's session
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    login = await http.post("/admin/login", data={"token": token})
    assert login.status_code == 303
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
    session_id = login.headers["set-cookie"].split(";")[0].split("=", 1)[1]  # a server-side admin session's id, not the token
    assert token not in login.headers["set-cookie"]
    jar = {"Cookie": f"bff_admin={session_id}"}  # the browser's cookie (httpx deprecates per-request cookies=)
    victim = await stack.login(unique_user("dash-victim"), stack.demo["other_customer"]["invite_code"])
    company = str(stack.demo["other_customer"]["id"])
    listing = await http.get("/admin", params={"company": company}, headers=jar)
    assert listing.status_code == 200 and 'id="company-users"' in listing.text
    openid = (await GraphQLClient(http, victim)("{ me { openid } }"))["data"]["me"]["openid"]
    assert openid in listing.text
    foreign = await http.post(
        "/admin/revoke", data={"kind": "sessions", "id": openid}, headers={**jar, "Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    done = await http.post("/admin/revoke", data={"kind": "sessions", "id": openid, "company": company}, headers=jar)
    assert done.status_code == 303
    assert error_code(await GraphQLClient(http, victim)("{ me { openid } }")) == "UNAUTHENTICATED"
