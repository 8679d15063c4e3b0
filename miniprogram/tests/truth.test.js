// What the purchaser sees is true (issue 13), against a real demo BFF and its simulators:
// shipped means dispatched on every surface, the timeline's current step is the one in
// progress in each situation the simulator can reach, shipments say what they carry, and a
// followed order is the only one whose changes spend grants and send messages.
const simulate = require('miniprogram-simulate')
const { openPage, until, queryOf, httpJson, watcherCycled } = require('./support/wx-shim')
const { tap, session } = require('./support/flow')

jest.setTimeout(90000)

const PACKED = 'SO2026112001' // the simulator's order whose deliveries left the warehouse, none dispatched
let wxState, loginAndBind, demoSecrets

beforeAll(() => {
  ;({ wxState, loginAndBind, demoSecrets } = session())
})

async function change(orderId, body) {
  const res = await httpJson('POST', `${wxState.info.erp}/__sim/orders/${orderId}`, body)
  expect(res.statusCode).toBe(200)
}

async function openOrder(id) {
  const page = await openPage(simulate, 'order', { id })
  expect(page.data.error).toBeNull()
  return page
}

const current = (order) => order.data.order.timeline.filter((s) => s.state === 'current').map((s) => s.title)

test('packed, not dispatched: every surface says 待发货 and 0 % dispatched', async () => {
  await loginAndBind('truth-packed')
  const demo = await demoSecrets()
  const home = await openPage(simulate, 'home')
  expect(home.dom.innerHTML).not.toContain(demo.customer.name) // the purchaser's own company is not repeated
  home.setData({ keyword: PACKED })
  await home.instance.onSearch()
  const card = home.data.items.find((o) => o.code === PACKED)
  expect(card).toMatchObject({ delivery: '待发货', shippedPct: 0, awaiting: true })
  expect(card.producedPct).toBeGreaterThan(0)
  expect(card.po).toMatch(/^PO-/)
  expect(card.summary).toMatch(/等 \d+ 项$/)
  expect(home.dom.innerHTML).toContain('待发货')

  const order = await openOrder(card.id)
  const o = order.data.order
  expect(o).toMatchObject({ delivery: '待发货', shippedPct: 0 })
  expect(current(order)).toEqual(['第1批 待发货'])
  for (const m of o.materials) expect(m.shippedPct).toBeLessThanOrEqual(m.producedPct)
  expect(o.materials.every((m) => m.shippedPct === 0)).toBe(true)
  expect(o.materials.some((m) => m.awaiting.startsWith('待发货'))).toBe(true)
  expect(o.shipments.length).toBeGreaterThan(0)
  for (const s of o.shipments) expect(s).toMatchObject({ state: 'PACKED', stateName: '待发货', logisticsCompany: '待发运' })
  // What each shipment carries: loaded after the detail, shown under 货品.
  await until(() => order.data.order.shipments.every((s) => s.linesLoaded))
  const goods = order.data.order.shipments.flatMap((s) => s.lines)
  expect(goods.length).toBeGreaterThan(0)
  expect(order.querySelectorAll('.good').length).toBe(goods.length)
  expect(order.dom.innerHTML).toContain(goods[0].name)

  // The material page agrees: its packed quantity is 待发货, nothing dispatched.
  const packed = o.materials.find((m) => m.awaiting)
  wxState.nav.length = 0
  order.instance.openMaterial({ currentTarget: { dataset: { id: packed.id } } })
  const material = await openPage(simulate, 'material', queryOf(wxState.nav.pop().url))
  expect(material.data.m.shippedPct).toBe(0)
  expect(material.data.m.stage).toBe('待发货')
  expect(material.data.m.figures.find((f) => f.k === '待发货（已出库）').v).not.toMatch(/^0\b/)
})

test('the timeline and the card through an order’s life: not started → producing → produced → dispatched → completed; cancelled', async () => {
  await loginAndBind('truth-life')
  const home = await openPage(simulate, 'home')
  await home.instance.onFilter({ currentTarget: { dataset: { value: 'NOT_STARTED' } } })
  const [x, y] = home.data.items.slice(-2)
  const steps = [
    [null, '未发货', ['已下单']],
    [{ status: 2 }, '未发货', ['生产中']],
    [{ action: 'produce' }, '未发货', ['待出库']],
    [{ action: 'ship' }, '已全部发货', ['第1批 已发货']],
    [{ action: 'complete' }, '已全部发货', ['已完成']],
  ]
  for (const [body, delivery, now] of steps) {
    if (body) await change(x.id, body)
    const order = await openOrder(x.id)
    expect({ delivery: order.data.order.delivery, current: current(order) }).toEqual({ delivery, current: now })
    expect(order.data.order.shippedPct).toBeLessThanOrEqual(order.data.order.producedPct)
    expect(order.querySelectorAll('.step.current').length).toBe(1)
  }
  const shipped = await openOrder(x.id)
  const s = shipped.data.order.shipments[0]
  expect(s).toMatchObject({ state: 'DISPATCHED', stateName: '已发货' })
  expect(s.trackingNumber).toBeTruthy()
  wxState.clipboard.length = 0
  await tap(shipped, '.copy')
  expect(wxState.clipboard.length).toBe(1)

  await change(y.id, { action: 'cancel' })
  const cancelled = await openOrder(y.id)
  expect(current(cancelled)).toEqual(['已取消'])
})

test('an attachment opens in the mini program, downloaded through the BFF with the session', async () => {
  await loginAndBind('truth-files')
  const home = await openPage(simulate, 'home')
  await home.instance.onFilter({ currentTarget: { dataset: { value: 'COMPLETED' } } })
  let order = null
  for (const item of home.data.items) {
    const page = await openOrder(item.id)
    if (page.data.order.shipments.some((x) => x.attachments.length)) {
      order = page
      break
    }
  }
  expect(order).not.toBeNull()
  wxState.opened.length = 0
  await tap(order, '.attachment')
  await until(() => wxState.opened.length)
  const [opened] = wxState.opened
  expect(['openDocument', 'previewImage']).toContain(opened.how)
  expect(opened.bytes.length).toBeGreaterThan(0)
})

test('following order A and not B: B’s change sends nothing, A’s sends one message naming A; settings offer 再次订阅', async () => {
  await loginAndBind('truth-follow')
  const openid = (await httpJson('POST', `${wxState.info.wechat}/__sim/wx-login`, { user: wxState.user })).data.openid
  const home = await openPage(simulate, 'home')
  await home.instance.onFilter({ currentTarget: { dataset: { value: 'NOT_STARTED' } } })
  const [a, b] = home.data.items.slice(0, 2)

  // 订阅此订单 on A: three templates accepted once each, A followed.
  wxState.subscribeAnswer = 'accept'
  const pageA = await openOrder(a.id)
  expect(pageA.data.order.followed).toBe(false)
  await tap(pageA, '#subscribe')
  await until(() => pageA.data.subscribed)
  expect(pageA.data.order.followed).toBe(true)
  expect((await openOrder(b.id)).data.order.followed).toBe(false)

  await watcherCycled() // the watcher first records both orders as they are
  await change(b.id, { status: 2 })
  await change(a.id, { status: 2 })
  const messages = await openPage(simulate, 'messages')
  for (let i = 0; i < 120 && !messages.data.items.some((m) => m.orderId === a.id); i++) {
    await simulate.sleep(500)
    await messages.instance.load(true)
  }
  const mine = messages.data.items
  expect(mine.map((m) => m.orderId)).toEqual([a.id])
  expect(mine[0].title).toBe(`${a.code} 进行中（原未开始）`)
  let sent = []
  for (let i = 0; i < 240 && sent.length === 0; i++) {
    if (i) await simulate.sleep(250)
    sent = (await httpJson('GET', `${wxState.info.wechat}/__sim/messages`)).data.messages.filter((m) => m.touser === openid)
  }
  expect(sent.map((m) => m.data.character_string1)).toEqual([a.code])
  // Purchasers see read or unread only; the badge counts what the dots mark.
  expect(messages.dom.innerHTML).not.toMatch(/已送达|未发送|发送失败/)
  expect(messages.data.unread).toBe(messages.querySelectorAll('.msg .dot').length)
  expect(messages.querySelector('#badge').dom.textContent).toBe(String(messages.data.unread))
  wxState.nav.length = 0
  await messages.instance.openMessage({ currentTarget: { dataset: { index: 0 } } })
  expect(wxState.nav.pop().url).toMatch(new RegExp(`^/pages/order/order\\?id=${a.id}\\b`))
  expect(messages.data.unread).toBe(messages.querySelectorAll('.msg .dot').length)

  // Settings: the status grant is spent (0 left, said so) and 再次订阅 asks WeChat again.
  await messages.instance.switchTab({ currentTarget: { dataset: { tab: 'settings' } } })
  const left = () => Object.fromEntries(messages.data.kinds.map((k) => [k.value, k.remaining]))
  expect(left()).toEqual({ ORDER_STATUS: 0, PRODUCTION_DONE: 1, ORDER_SHIPPED: 1 })
  expect(messages.dom.innerHTML).toContain('剩余 0 次')
  expect(messages.querySelectorAll('.resubscribe').length).toBe(3)
  wxState.requests.length = 0
  await tap(messages, '.resubscribe')
  await until(() => left().ORDER_STATUS === 1)
  expect(wxState.requests.map((r) => r.operation)).toContain('RecordSubscriptions')

  // A template switched off for good in WeChat: said so, with the way to switch it on.
  wxState.subscriptionsSetting = { mainSwitch: true, itemSettings: { TPL_ORDER_SHIPPED: 'ban' } }
  await messages.instance.loadSettings()
  expect(messages.data.kinds.find((k) => k.value === 'ORDER_SHIPPED').off).toBe(true)
  expect(messages.dom.innerHTML).toContain('通知管理')
  expect(messages.querySelectorAll('.resubscribe').length).toBe(2)
  wxState.subscriptionsSetting = { mainSwitch: true, itemSettings: {} }

  // 订阅全部订单 is a choice of its own.
  expect(messages.data.followAll).toBe(false)
  wxState.toasts.length = 0
  await tap(messages, '#follow-all')
  await until(() => wxState.toasts.includes('已保存'))
  await messages.instance.loadSettings()
  expect(messages.data.followAll).toBe(true)
})
