// Parcel tracking against the demo BFF and its tracking simulator (bff sim tracking): a shipment's
// track appearing on the order page, a push moving it, 已签收 notified once and opening its track,
// an unsupported carrier said so, and searching by tracking and delivery-note numbers.
const simulate = require('miniprogram-simulate')
const { openPage, until, queryOf, httpJson } = require('./support/wx-shim')
const { session } = require('./support/flow')

jest.setTimeout(90000)

let wxState, loginAndBind

beforeAll(() => {
  ;({ wxState, loginAndBind } = session())
})

const SHIPPED = `{ orders(pageSize: 50) { items { id code status
  shipments { id code state trackingNumber logisticsCompany } } } }`
const TRACK = `query($id: ID!) { order(id: $id) { shipments { id trackingNumber tracking { state events { text } } } } }`
const FREIGHT = ['安能物流', '百世快运'] // freight lines: not followed (暂不支持自动查询)

async function gql(query, variables) {
  const token = wx.getStorageSync('bff.token')
  const res = await httpJson('POST', wxState.info.graphql, { query, variables }, { authorization: `Bearer ${token}` })
  if (!res.data.data) throw new Error(JSON.stringify(res.data))
  return res.data.data
}

/** Reads again until done (the simulator and the BFF change in the background). */
async function eventually(read, done, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() > end) return value
    await new Promise((r) => setTimeout(r, 100))
  }
}

const simState = async () => (await httpJson('GET', `${wxState.info.tracking}/__sim/state`)).data

/** The demo company's dispatched shipments with a tracking number, with their order. */
async function tracked() {
  const { orders } = await gql(SHIPPED)
  return orders.items.flatMap((o) => o.shipments.filter((s) => s.state !== 'PACKED' && s.trackingNumber).map((s) => ({ order: o, shipment: s })))
}

const followedCarrier = (s) => s.logisticsCompany && !FREIGHT.includes(s.logisticsCompany)

/** A shipment of an open order that the BFF subscribed (the change watcher did, at first sight). */
async function subscribedShipment() {
  const all = (await tracked()).filter((t) => followedCarrier(t.shipment) && t.order.status !== 'COMPLETED')
  const state = await eventually(simState, (s) => all.some((t) => (s.parcels[t.shipment.trackingNumber] || {}).subscribed))
  const found = all.find((t) => {
    const p = state.parcels[t.shipment.trackingNumber]
    return p && p.subscribed && !p.final && p.stage < 4
  })
  expect(found).toBeTruthy()
  return found
}

const shipmentOf = (page, id) => page.data.order.shipments.find((s) => s.id === id)

test("a shipment's track appears on the order page, newest first, the newest highlighted; its card says so", async () => {
  await loginAndBind('track-appears')
  const { order, shipment } = (await tracked()).find((t) => followedCarrier(t.shipment))
  const page = await openPage(simulate, 'order', { id: order.id })
  const track = shipmentOf(page, shipment.id).track
  expect(['运输中', '派送中', '已签收', '运输异常']).toContain(track.label)
  expect(track.events.length).toBeGreaterThan(0)
  expect(track.events.map((e) => e.current)).toEqual(track.events.map((_, i) => i === 0))
  expect(page.querySelector(`#track-${shipment.id}`)).toBeTruthy()

  // The home card shows the newest shipment's state, found by the order's number.
  const home = await openPage(simulate, 'home')
  home.setData({ keyword: order.code })
  await home.instance.onSearch()
  await until(() => home.data.items.length && !home.data.loading)
  expect(home.data.items[0].id).toBe(order.id)
  expect(['运输中', '派送中', '已签收', '运输异常', '']).toContain(home.data.items[0].parcel)
})

test('a push moves the track: 刷新 shows the new event on top', async () => {
  await loginAndBind('track-moves')
  const { order, shipment } = await subscribedShipment()
  const page = await openPage(simulate, 'order', { id: order.id })
  const before = shipmentOf(page, shipment.id).track.events.length
  const moved = (await httpJson('POST', `${wxState.info.tracking}/__sim/advance`, { number: shipment.trackingNumber })).data
  // The push (sent again, and an older one late) has reached the BFF once the simulator answers.
  const stored = await eventually(() => gql(TRACK, { id: order.id }),
    (d) => d.order.shipments.find((s) => s.id === shipment.id).tracking.events.length > before)
  const events = stored.order.shipments.find((s) => s.id === shipment.id).tracking.events
  expect(events.length).toBe(moved.stage + 1)
  await page.instance.onRefreshTrack()
  const track = shipmentOf(page, shipment.id).track
  expect(track.events.length).toBe(moved.stage + 1)
  expect(track.events[0].text).toBe(events[0].text)
  expect(track.events[0].current).toBe(true)
})

test('已签收 is notified once, whatever the repeated and late pushes; the message opens the track', async () => {
  await loginAndBind('track-signed')
  const { openid } = (await httpJson('POST', `${wxState.info.wechat}/__sim/wx-login`, { user: wxState.user })).data
  await httpJson('POST', `${wxState.info.wechat}/__sim/grants`, { openid, template_id: 'TPL_ORDER_STATUS', count: 10 })
  await gql('mutation($r: [SubscriptionResultInput!]!) { recordSubscriptions(results: $r) { remaining } }',
    { r: Array(10).fill({ templateId: 'TPL_ORDER_STATUS', accepted: true }) })
  await gql('mutation { updateNotificationSettings(input: {followAll: true}) { followAll } }')
  const { order, shipment } = await subscribedShipment()
  const signed = (await httpJson('POST', `${wxState.info.tracking}/__sim/advance`, { number: shipment.trackingNumber, until: '3' })).data
  expect(signed.state).toBe('3')
  const pushes = (await simState()).pushes.filter((p) => p.number === shipment.trackingNumber)
  expect(pushes.some((p) => p.kind === 'repeat') && pushes.some((p) => p.kind === 'late')).toBe(true)

  const MESSAGES = '{ messages(pageSize: 50) { items { kind orderId page title } } }'
  const about = (d) => d.messages.items.filter((m) => m.kind === 'parcel_signed' && m.page.endsWith(`&shipment=${shipment.id}`))
  const found = about(await eventually(() => gql(MESSAGES), (d) => about(d).length > 0))
  expect(found).toHaveLength(1)
  expect(found[0].orderId).toBe(order.id)
  expect(found[0].title).toContain('已签收')
  const sent = await eventually(async () => (await httpJson('GET', `${wxState.info.wechat}/__sim/messages`)).data.messages
    .filter((m) => m.touser === openid && m.page === found[0].page), (m) => m.length > 0)
  expect(sent).toHaveLength(1)
  expect(sent[0].data.phrase3).toBe('已签收')

  // Tapped: the order page opens on that shipment's track.
  wxState.scrolls.length = 0
  const page = await openPage(simulate, 'order', queryOf(found[0].page))
  expect(page.data.focus).toBe(shipment.id)
  expect(wxState.scrolls).toContain(`#ship-${shipment.id}`)
  expect(shipmentOf(page, shipment.id).track.label).toBe('已签收')
  expect(about(await gql(MESSAGES))).toHaveLength(1) // still once
})

test('a carrier the tracking service does not follow: 暂不支持自动查询, with the number to copy', async () => {
  await loginAndBind('track-freight')
  const freight = (await tracked()).find((t) => FREIGHT.includes(t.shipment.logisticsCompany))
  expect(freight).toBeTruthy()
  const page = await openPage(simulate, 'order', { id: freight.order.id })
  const row = shipmentOf(page, freight.shipment.id)
  expect(row.track.unsupported).toBe(true)
  expect(row.track.label).toBe('暂不支持自动查询')
  expect(page.querySelector(`#track-${freight.shipment.id}`).dom.textContent).toContain('暂不支持自动查询')
  expect(row.trackingNumber).toBe(freight.shipment.trackingNumber)
  const requests = (await simState()).requests.filter((r) => r.number === freight.shipment.trackingNumber)
  expect(requests).toEqual([]) // asked of nobody
})

test('searching a tracking number or a delivery-note number (XSCK…) finds its order', async () => {
  await loginAndBind('track-search')
  const { order, shipment } = (await tracked())[0]
  const home = await openPage(simulate, 'home')
  for (const keyword of [shipment.trackingNumber, shipment.code]) {
    home.setData({ keyword })
    await home.instance.onSearch()
    await until(() => !home.data.loading)
    expect(home.data.items.map((o) => o.id)).toContain(order.id)
  }
  expect(shipment.code).toMatch(/^XSCK/)
})
