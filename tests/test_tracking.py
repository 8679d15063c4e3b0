"""Parcel tracking (docs/tracking.md): the 快递100 client against its simulator, and the BFF's
callback, store and notifications against the real stack.

Backend-dependent (``parcel_tracks`` rows, the query claim's conditional update, concurrent
pushes, the outbox): the integration tests run on SQLite and on MariaDB + Redis.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlmodel import col, select

from bff.core.domain import TrackingState
from bff.demo import DemoStack
from bff.erp.mapping import phone_tail
from bff.sim.erp.data import LOGISTICS
from bff.sim.tracking import TrackingSim, TrackingSimConfig
from bff.sim.tracking import create_app as create_tracking_app
from bff.store.tables import MessageLog, OrderEvent, ParcelTrack
from bff.tracking import TrackingClient, TrackingConfig, TrackingRefused, carrier_of, protocol
from bff.tracking.carriers import CODES
from bff.tracking.protocol import newer, push_of, push_sign, query_sign, state_of, track_of
from bff.web.serving import start_server
from tests.notify.helpers import FOLLOW, FOLLOW_ALL, GRANT, openid_of
from tests.support import (
    GraphQLClient,
    backend_stack,
    eventually,
    unique_user,
)

SIM = TrackingSimConfig(step_s=0)  # parcels move only when a test says so


# --- the protocol, offline -------------------------------------------------------------------------


def test_signatures_are_md5_upper_over_the_text_as_sent() -> None:
    form = protocol.query_form("cust", "key", "yuantong", "YT123456789", None)
    assert form["sign"] == hashlib.md5((form["param"] + "key" + "cust").encode()).hexdigest().upper()
    assert query_sign("a", "b", "c") == hashlib.md5(b"abc").hexdigest().upper()
    assert json.loads(form["param"]) == {"com": "yuantong", "num": "YT123456789", "resultv2": "1", "show": "0", "order": "desc"}
    sub = json.loads(protocol.subscribe_form("key", "shunfeng", "SF1", "5678", "https://x/cb", "salt")["param"])
    assert sub["parameters"] == {"callbackurl": "https://x/cb", "resultv2": "1", "autoCom": "0", "salt": "salt", "phone": "5678"}

    param = json.dumps({"status": "polling", "lastResult": {"state": "0", "ischeck": "0", "com": "yuantong", "nu": "YT1",
                                                             "data": [{"time": "2026-11-20 10:00:00", "context": "已揽收"}]}})
    assert push_of({"param": param, "sign": push_sign(param, "salt")}, "salt") is not None
    assert push_of({"param": param, "sign": push_sign(param, "other")}, "salt") is None  # forged
    assert push_of({"param": param}, "salt") is None  # unsigned while we gave a salt
    assert push_of({"param": "not json", "sign": push_sign("not json", "salt")}, "salt") is None


def test_states_points_and_which_push_is_newer() -> None:
    assert state_of("3") is TrackingState.SIGNED and state_of("301") is TrackingState.SIGNED
    assert state_of("5") is TrackingState.OUT_FOR_DELIVERY and state_of("1001") is TrackingState.IN_TRANSIT
    assert state_of("2") is TrackingState.PROBLEM and state_of("14") is TrackingState.PROBLEM
    assert state_of("6") is TrackingState.RETURNED and state_of("99") is TrackingState.UNKNOWN
    raw = {"state": "0", "ischeck": "0", "com": "zhongtong", "nu": "ZT1", "data": [
        {"time": "2026-11-20 09:00:00", "context": "已揽收", "areaName": "杭州市"},
        {"time": "2026-11-20 12:00:00", "context": "x" * 500},  # out of order, too long
        {"time": "bad", "context": ""},  # no text: dropped
    ]}
    track = track_of(raw)
    assert track is not None and [p.text[:1] for p in track.points] == ["x", "已"]  # newest first
    assert len(track.points[0].text) == protocol.MAX_TEXT_CHARS and track.points[1].location == "杭州市"
    newest, count = track.newest_at, len(track.points)
    assert not newer(track, newest, count)  # the same push again
    older = track_of({**raw, "data": raw["data"][:1]})
    assert older is not None and not newer(older, newest, count)  # an older push arriving late
    later = track_of({**raw, "data": [{"time": "2026-11-20 15:00:00", "context": "派件中"}, *raw["data"]]})
    assert later is not None and newer(later, newest, count)


def test_carrier_table() -> None:
    assert carrier_of("圆通速递") is not None and carrier_of("圆通速递").code == "yuantong"  # type: ignore[union-attr]
    assert carrier_of("顺丰速运").needs_phone and carrier_of("顺丰快运").code == "shunfengkuaiyun"  # type: ignore[union-attr]
    assert carrier_of("京东物流").code == "jd" and carrier_of("德邦物流").code == "debangwuliu"  # type: ignore[union-attr]
    for freight in ("金通物流", "安能物流", "百世快运", "盛辉物流", "", None):
        assert carrier_of(freight) is None, freight
    assert TrackingSimConfig().covered >= CODES  # the simulator follows every carrier we send it


def test_phone_tail() -> None:
    assert phone_tail("138 0013 8000") == "8000" and phone_tail("0571-8888-1234") == "1234"
    assert phone_tail("123") is None and phone_tail(None) is None


# --- the client against the simulator ---------------------------------------------------------------


@pytest_asyncio.fixture
async def tracking_sim() -> AsyncIterator[tuple[TrackingSim, str]]:
    sim = TrackingSim(TrackingSimConfig(step_s=0))
    server = await start_server(create_tracking_app(sim=sim))
    try:
        yield sim, server.url
    finally:
        await server.stop()


async def test_client_query_and_subscription(tracking_sim: tuple[TrackingSim, str]) -> None:
    sim, url = tracking_sim
    config = TrackingConfig(url, sim.config.customer, sim.config.key, "s" * 32)
    client = TrackingClient(config)
    try:
        track = await client.query("yuantong", "YT0000000001", None)
        assert track.number == "YT0000000001" and track.points and track.state is TrackingState.IN_TRANSIT
        with pytest.raises(TrackingRefused) as refused:
            await TrackingClient(TrackingConfig(url, sim.config.customer, "wrong-key", "")).query("yuantong", "YT1", None)
        assert refused.value.return_code == "503"  # the signature does not match
        with pytest.raises(TrackingRefused):
            await client.query("annengwuliu", "AN123456", None)  # a carrier it does not cover
        with pytest.raises(TrackingRefused) as refused:
            await client.query("shunfeng", "SF1234567890", None)  # 顺丰 answers only with the phone
        assert refused.value.return_code == "408"
        sim.phones["SF1234567890"] = "4321"
        with pytest.raises(TrackingRefused):
            await client.query("shunfeng", "SF1234567890", "9999")
        assert (await client.query("shunfeng", "SF1234567890", "4321")).points

        await client.subscribe("zhongtong", "ZT0000000001", None, "http://127.0.0.1:9/cb")
        await client.subscribe("zhongtong", "ZT0000000001", None, "http://127.0.0.1:9/cb")  # again: 501, followed
        with pytest.raises(TrackingRefused) as refused:
            await client.subscribe("annengwuliu", "AN1", None, "http://127.0.0.1:9/cb")
        assert refused.value.return_code == "701"
        assert list(sim.subscriptions) == ["ZT0000000001"]
    finally:
        await client.aclose()


# --- the BFF: watcher, callback, store, notifications, reads -----------------------------------------

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest_asyncio.fixture(scope="module", params=["sqlite", "mariadb"])
async def stack(request: pytest.FixtureRequest) -> AsyncIterator[DemoStack]:
    async with backend_stack(request.param, with_tracking=True, tracking_config=SIM) as demo:
        yield demo


@pytest_asyncio.fixture
async def http(stack: DemoStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as client:
        yield client


async def rows(stack: DemoStack) -> dict[str, ParcelTrack]:
    async with stack.services.db.session() as s:
        return {r.number: r for r in (await s.exec(select(ParcelTrack))).all()}


def sim_of(stack: DemoStack) -> TrackingSim:
    assert stack.tracking_sim is not None
    return stack.tracking_sim


def customer_deliveries(stack: DemoStack, customer_id: str) -> list[dict[str, Any]]:
    return [d for d in stack.erp_sim.data.deliveries if d["customerOrSupplierId"] == customer_id]


async def followed(stack: DemoStack) -> dict[str, ParcelTrack]:
    """The watcher's first cycle: every dispatched shipment of the open orders, followed."""
    await stack.services.notify.watcher.run_cycle()
    return await rows(stack)


async def test_each_dispatched_shipment_is_subscribed_once_with_the_phone_only_where_needed(stack: DemoStack) -> None:
    sim = sim_of(stack)
    tracks = await followed(stack)
    assert tracks, "the demo customer's open orders have dispatched shipments"
    subscribed = [r for r in sim.requests if r["kind"] == "subscribe"]
    numbers = [r["number"] for r in subscribed]
    assert len(numbers) == len(set(numbers))  # once each
    followed_numbers = {n for n, r in tracks.items() if r.com is not None}
    assert set(numbers) == followed_numbers
    assert all(r.subscribed_at is not None for n, r in tracks.items() if n in followed_numbers)
    mobiles = {d["logisticsCode"]: d["mobile"] for d in stack.erp_sim.data.deliveries if d["logisticsCode"]}
    for request in subscribed:
        if request["com"] == "shunfeng":
            assert request["phone"] == phone_tail(mobiles[request["number"]])  # its last four digits, nothing more
        else:
            assert request["phone"] is None  # sent only where the carrier needs it
    for row in tracks.values():
        assert (row.com is None) == (carrier_of(row.carrier) is None)
        assert row.com is not None or row.state == TrackingState.UNSUPPORTED.value

    await stack.services.notify.watcher.run_cycle()  # nothing new dispatched: nothing subscribed again
    assert len([r for r in sim.requests if r["kind"] == "subscribe"]) == len(subscribed)


async def test_pushes_repeat_and_arrive_late_and_signed_is_notified_once(stack: DemoStack, http: httpx.AsyncClient) -> None:
    sim = sim_of(stack)
    tracks = await followed(stack)
    gql = GraphQLClient(http, await stack.login(unique_user("parcel"), stack.demo["customer"]["invite_code"]))
    openid = await openid_of(gql)
    await gql(GRANT, {"r": [{"templateId": "TPL_ORDER_STATUS", "accepted": True}] * 3})
    async with httpx.AsyncClient(base_url=stack.wechat.url) as client:
        for _ in range(3):
            (await client.post("/__sim/grants", json={"openid": openid, "template_id": "TPL_ORDER_STATUS"})).raise_for_status()
    await gql(FOLLOW_ALL)
    number = next(n for n, r in sorted(tracks.items()) if r.subscribed_at is not None and r.state != "SIGNED"
                  and sim.parcels[n].script[-2][0] != "2")  # a parcel that goes straight to signed
    row = (await eventually(lambda: rows(stack), lambda found: found[number].newest_at is not None, 10))[number]
    assert row.state == TrackingState.IN_TRANSIT.value  # the first push, soon after subscribing

    async with httpx.AsyncClient(base_url=stack.tracking.url) as control:  # type: ignore[union-attr]
        moved = (await control.post("/__sim/advance", json={"number": number})).json()
        moved_row = (await eventually(lambda: rows(stack), lambda f: len(json.loads(f[number].events)) == moved["stage"] + 1, 10))[number]
        assert len(json.loads(moved_row.events)) == moved["stage"] + 1
        signed = (await control.post("/__sim/advance", json={"number": number, "until": "3"})).json()
    assert signed["state"] == "3"
    pushes = [p for p in sim.pushes if p["number"] == number]
    assert {"new", "repeat", "late"} <= {p["kind"] for p in pushes} and all(p["ok"] for p in pushes)
    assert pushes[-1]["kind"] == "late" and pushes[-1]["state"] != "3"  # an older track arrived last
    final = (await rows(stack))[number]
    assert final.state == TrackingState.SIGNED.value and final.final  # ...and changed nothing
    assert json.loads(final.events)[0][1].startswith("【") and "签收" in json.loads(final.events)[0][1]

    async def signed_messages() -> list[MessageLog]:
        async with stack.services.db.session() as s:
            return list((await s.exec(select(MessageLog).where(
                MessageLog.openid == openid, MessageLog.kind == "parcel_signed"))).all())

    sent = await eventually(signed_messages, lambda found: len(found) >= 1, 10)
    assert len(sent) == 1 and sent[0].template_id == "TPL_ORDER_STATUS"
    assert sent[0].page is not None and sent[0].page.endswith(f"&shipment={final.shipment_id}")  # opens the track
    assert "已签收" in (sent[0].title or "")

    # The whole signed track again (快递100 retries a push it thinks was lost): still one message.
    param = json.dumps({"status": "shutdown", "lastResult": sim.parcels[number].result()}, ensure_ascii=False)
    salt = stack.settings.tracking_salt.get_secret_value()
    answer = await http.post("/api/tracking/callback", data={"param": param, "sign": push_sign(param, salt)})
    assert answer.status_code == 200 and answer.json() == {"result": True, "returnCode": "200", "message": "成功"}
    assert len(await signed_messages()) == 1

    # The order's timeline says when the parcel was signed for (the track's time, never a query).
    order_id = json.loads(final.order_ids)[0]
    timeline = (await gql("query($id: ID!) { order(id: $id) { timeline { kind title at done detail } } }",
                          {"id": order_id}))["data"]["order"]["timeline"]
    step = next(s for s in timeline if s["kind"] == "SIGNED" and s["detail"] == number)
    assert step["done"] and "已签收" in step["title"] and step["at"] is not None
    kinds = [s["kind"] for s in timeline]
    assert kinds.index("SIGNED") > kinds.index("SHIPMENT")  # after the batch left


async def test_a_shipment_of_several_orders_tells_the_followers_of_each_once(stack: DemoStack, http: httpx.AsyncClient) -> None:
    """A delivery carrying several of the customer's orders: "已签收" reaches the followers of each
    order the watcher read as the customer's, every purchaser once, the message opening the order
    they follow (the first of the shipment's they follow; a purchaser following every order: the
    first); nobody else, and a repeated push sends nothing more."""
    tracks = await followed(stack)
    customer = stack.demo["customer"]["id"]
    delivered = {d["logisticsCode"]: d for d in customer_deliveries(stack, customer) if d["logisticsCode"]}
    for number, row in tracks.items():  # the orders recorded are the delivery's own, and known
        recorded = json.loads(row.order_codes)
        assert recorded and set(recorded) <= set(str(delivered[number]["salesOrderIds"]).split(","))
    number, row = next((n, r) for n, r in sorted(tracks.items())
                       if len(json.loads(r.order_codes)) >= 2 and r.subscribed_at is not None and not r.notified)
    (first, first_code), (second, second_code) = list(json.loads(row.order_codes).items())[:2]

    async def purchaser(name: str, follows: tuple[str, ...] = (), follow_all: bool = False) -> str:
        gql = GraphQLClient(http, await stack.login(unique_user(name), stack.demo["customer"]["invite_code"]))
        openid = await openid_of(gql)
        await gql(GRANT, {"r": [{"templateId": "TPL_ORDER_STATUS", "accepted": True}] * 2})
        async with httpx.AsyncClient(base_url=stack.wechat.url) as client:
            for _ in range(2):
                (await client.post("/__sim/grants", json={"openid": openid, "template_id": "TPL_ORDER_STATUS"})).raise_for_status()
        for order_id in follows:
            assert (await gql(FOLLOW, {"id": order_id, "on": True}))["data"]["followOrder"] is True
        if follow_all:
            await gql(FOLLOW_ALL)
        return openid

    users = {"first": await purchaser("several-first", (first,)), "second": await purchaser("several-second", (second,)),
             "both": await purchaser("several-both", (second, first)), "all": await purchaser("several-all", follow_all=True),
             "none": await purchaser("several-none")}

    async def signed() -> list[MessageLog]:
        async with stack.services.db.session() as s:
            return list((await s.exec(select(MessageLog).where(
                col(MessageLog.openid).in_(list(users.values())), MessageLog.kind == "parcel_signed"))).all())

    async with httpx.AsyncClient(base_url=stack.tracking.url) as control:  # type: ignore[union-attr]
        assert (await control.post("/__sim/advance", json={"number": number, "until": "3"})).json()["state"] == "3"
    sent = await eventually(signed, lambda found: len(found) >= 4, 10)
    by_user = {m.openid: m for m in sent}
    assert len(sent) == len(by_user) == 4 and users["none"] not in by_user  # each once; nobody who follows neither
    opened = {name: by_user[openid].order_id for name, openid in users.items() if openid in by_user}
    assert opened == {"first": first, "second": second, "both": first, "all": first}
    for name, order_id in opened.items():
        message = by_user[users[name]]
        assert message.page is not None and message.page.startswith(f"pages/order/order?id={order_id}&")
        assert message.page.endswith(f"&shipment={row.shipment_id}")
        assert (message.title or "").startswith(f"{first_code if order_id == first else second_code} 已签收")
    assert len({m.dedupe_key.rsplit(":", 1)[0] for m in sent if m.dedupe_key}) == 1  # one event: the number's and state's

    # The signed track again (a push the service thinks was lost): nothing more, for anyone.
    sim = sim_of(stack)
    param = json.dumps({"status": "shutdown", "lastResult": sim.parcels[number].result()}, ensure_ascii=False)
    salt = stack.settings.tracking_salt.get_secret_value()
    answer = await http.post("/api/tracking/callback", data={"param": param, "sign": push_sign(param, salt)})
    assert answer.status_code == 200
    assert len(await signed()) == 4
    async with stack.services.db.session() as s:  # each order records the event
        events = (await s.exec(select(OrderEvent).where(OrderEvent.kind == "parcel_signed", col(OrderEvent.order_id).in_(
            [first, second])))).all()
    assert {e.order_id for e in events} >= {first, second}


async def test_a_push_not_signed_with_our_salt_is_refused(stack: DemoStack, http: httpx.AsyncClient) -> None:
    tracks = await followed(stack)
    number, row = next((n, r) for n, r in sorted(tracks.items()) if r.com is not None)
    forged = json.dumps({"status": "polling", "lastResult": {"state": "3", "ischeck": "1", "com": row.com, "nu": number,
                                                              "data": [{"time": "2099-01-01 00:00:00", "context": "已签收"}]}})
    for form in ({"param": forged, "sign": push_sign(forged, "guessed")}, {"param": forged}):
        answer = await http.post("/api/tracking/callback", data=form)
        assert answer.status_code == 401 and answer.json()["result"] is False
    assert (await rows(stack))[number].events == row.events  # nothing stored


ORDER = """query($id: ID!) { order(id: $id) { id code trackingState
  shipments { id trackingNumber logisticsCompany tracking { state updatedAt carrier events { time text location } } } } }"""


async def test_opening_a_shipment_queries_a_missing_track_once_and_lists_never(stack: DemoStack, http: httpx.AsyncClient) -> None:
    sim = sim_of(stack)
    gql = GraphQLClient(http, stack.token)
    known = await rows(stack)
    customer = stack.demo["customer"]["id"]
    history = [d for d in customer_deliveries(stack, customer)
               if d["是否发货"] and d["logisticsCode"] and d["logisticsCode"] not in known
               and carrier_of({i: n for i, n, _, _ in LOGISTICS}[d["logisticsCompanyId"]]) is not None]
    delivery = history[0]
    number = delivery["logisticsCode"]
    queries = lambda: [r for r in sim.requests if r["kind"] == "query" and r.get("number") == number]  # noqa: E731

    listed = await gql("{ orders(pageSize: 50) { items { id trackingState shipments { trackingNumber tracking { state } } } } }")
    assert listed["data"], listed
    assert queries() == []  # a list shows what is stored, and asks nobody

    answer = await gql(ORDER, {"id": delivery["salesOrderId"]})
    shipment = next(s for s in answer["data"]["order"]["shipments"] if s["trackingNumber"] == number)
    assert shipment["tracking"]["state"] in ("IN_TRANSIT", "OUT_FOR_DELIVERY", "SIGNED", "PROBLEM")
    events = shipment["tracking"]["events"]
    assert events and [e["time"] for e in events] == sorted((e["time"] for e in events), reverse=True)  # newest first
    assert len(queries()) == 1
    again = await gql(ORDER, {"id": delivery["salesOrderId"]})
    assert again["data"]["order"]["shipments"] and len(queries()) == 1  # at most once per number per few minutes
    assert again["data"]["order"]["trackingState"] is not None


async def test_an_unsupported_carrier_is_said_so_and_asked_of_nobody(stack: DemoStack, http: httpx.AsyncClient) -> None:
    sim = sim_of(stack)
    gql = GraphQLClient(http, stack.token)
    names = {i: n for i, n, _, _ in LOGISTICS}
    customer = stack.demo["customer"]["id"]
    delivery = next(d for d in customer_deliveries(stack, customer)
                    if d["是否发货"] and d["logisticsCode"] and carrier_of(names[d["logisticsCompanyId"]]) is None)
    answer = await gql(ORDER, {"id": delivery["salesOrderId"]})
    shipment = next(s for s in answer["data"]["order"]["shipments"] if s["trackingNumber"] == delivery["logisticsCode"])
    assert shipment["tracking"]["state"] == "UNSUPPORTED" and shipment["tracking"]["events"] == []
    assert shipment["tracking"]["carrier"] == names[delivery["logisticsCompanyId"]]
    assert not [r for r in sim.requests if r.get("number") == delivery["logisticsCode"]]


SEARCH = "query($k: String!) { orders(keyword: $k, pageSize: 50) { total items { id code } } }"


async def test_search_by_tracking_and_delivery_note_number_is_scoped(stack: DemoStack, http: httpx.AsyncClient) -> None:
    gql = GraphQLClient(http, stack.token)
    customer, other = stack.demo["customer"]["id"], stack.demo["other_customer"]["id"]
    mine = next(d for d in customer_deliveries(stack, customer) if d["是否发货"] and d["logisticsCode"])
    for keyword in (mine["logisticsCode"], mine["code"]):
        found = await gql(SEARCH, {"k": keyword})
        assert mine["salesOrderId"] in {o["id"] for o in found["data"]["orders"]["items"]}, keyword
    theirs = next(d for d in customer_deliveries(stack, other) if d["是否发货"] and d["logisticsCode"])
    for keyword in (theirs["logisticsCode"], theirs["code"]):
        found = await gql(SEARCH, {"k": keyword})
        assert theirs["salesOrderId"] not in {o["id"] for o in found["data"]["orders"]["items"]}, keyword

