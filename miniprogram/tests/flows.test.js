// The mini program's pages against a real demo BFF: client and BFF tested together.
const simulate = require('miniprogram-simulate')
const { openPage, until, queryOf, httpJson, watcherCycled } = require('./support/wx-shim')
const { tap, session } = require('./support/flow')

let wxState, freshUser, demoSecrets, loginAndBind

beforeAll(() => {
  ;({ wxState, freshUser, demoSecrets, loginAndBind } = session())
})

/** After an outage the BFF's circuit breaker stays open a while: wait for live ERP reads. */
async function erpBack() {
  await httpJson('POST', `${wxState.info.erp}/__sim/faults/reset`, {})
  const query = '{ orders(pageSize: 1) { stale } }'
  for (let i = 0; i < 60; i++) {
    const res = await httpJson('POST', wxState.info.graphql, { query }, { authorization: `Bearer ${wxState.info.token}` })
    if (!res.data.errors && res.data.data && !res.data.data.orders.stale) return
    await simulate.sleep(500)
  }
  throw new Error('the ERP did not come back')
}

test('first launch → login → bind → home → search → detail → subscribe → messages', async () => {
  freshUser('first')
  // First launch: no session, the home page sends the user to the login page.
  await openPage(simulate, 'home')
  expect(wxState.nav.pop()).toEqual({ kind: 'reLaunch', url: '/pages/login/login?mode=login' })
  expect(wxState.requests).toHaveLength(0)

  // Login is impossible before the privacy agreement is accepted.
  const login = await openPage(simulate, 'login', { mode: 'login' })
  await login.instance.onLogin()
  expect(wxState.requests).toHaveLength(0)
  await tap(login, '#agree')
  expect(login.data.agreed).toBe(true)
  await login.instance.onLogin()
  expect(login.data.error).toBe('') // (a failure names its cause)
  expect(login.data.step).toBe('bind') // a new user is not bound yet
  expect(wx.getStorageSync('bff.token')).toBeTruthy()

  // A wrong invite code says so in Chinese and stays on the page.
  login.setData({ inviteCode: 'WRONG123' })
  await login.instance.onBind()
  expect(login.data.error).toMatch(/[\u4e00-\u9fa5]/)
  expect(wxState.nav).toHaveLength(0)

  // Scanning fills the code from a QR link, then binding enters the home tab.
  const demo = await demoSecrets()
  wxState.scanResult = `https://huicai.example.com/bind?inviteCode=${demo.customer.invite_code}`
  await tap(login, '#scan')
  expect(login.data.inviteCode).toBe(demo.customer.invite_code)
  await login.instance.onBind()
  expect(wxState.nav.pop()).toEqual({ kind: 'switchTab', url: '/pages/home/home' })

  // Home: the first screen is exactly one GraphQL request.
  wxState.requests.length = 0
  const home = await openPage(simulate, 'home')
  expect(wxState.requests.map((r) => r.operation)).toEqual(['Home'])
  expect(home.data.items.length).toBeGreaterThan(0)
  expect(home.data.total).toBeGreaterThan(home.data.items.length)
  expect(home.data.banner).toBe('')
  const cards = home.querySelectorAll('.order')
  expect(cards.length).toBe(home.data.items.length)
  expect(home.dom.innerHTML).toContain(home.data.items[0].code)

  // Endless scrolling appends the next page.
  const before = home.data.items.length
  await home.instance.onReachBottom()
  expect(home.data.items.length).toBeGreaterThan(before)

  // Search by order number.
  const target = home.data.items[0]
  home.setData({ keyword: target.code })
  await home.instance.onSearch()
  expect(home.data.items.map((o) => o.code)).toContain(target.code)
  expect(home.data.items.length).toBeLessThan(before)

  // Status filter.
  await home.instance.onFilter({ currentTarget: { dataset: { value: 'COMPLETED' } } })
  expect(home.data.status).toBe('COMPLETED')
  for (const o of home.data.items) expect(o.status).toBe('COMPLETED')

  // Tap a card → order detail. (Not one awaiting dispatch: truth.test.js reads SO2026112001 as
  // the simulator seeded it, and this flow ships what it opens.)
  home.setData({ keyword: '', status: '' })
  await home.instance.onSearch()
  const chosen = home.data.items.findIndex((o) => o.status === 'IN_PROGRESS' && !o.awaiting && o.producedPct < 100)
  expect(chosen).toBeGreaterThanOrEqual(0)
  home.querySelectorAll('.order')[chosen].dispatchEvent('tap')
  await simulate.sleep(5)
  const nav = wxState.nav.pop()
  expect(nav.url).toMatch(/^\/pages\/order\/order\?id=/)
  const order = await openPage(simulate, 'order', queryOf(nav.url))
  expect(order.data.error).toBeNull()
  expect(order.data.order.code).toBe(home.data.items[chosen].code)
  expect(order.data.order.timeline.length).toBeGreaterThan(0)
  expect(order.data.order.timeline.filter((s) => s.state === 'current').length).toBeLessThanOrEqual(1)
  expect(order.querySelectorAll('.material').length).toBe(order.data.order.materials.length)
  expect(order.querySelectorAll('.step').length).toBe(order.data.order.timeline.length)

  // Material progress page from the detail.
  if (order.data.order.materials.length) {
    await tap(order, '.material')
    const m = await openPage(simulate, 'material', queryOf(wxState.nav.pop().url))
    expect(m.data.error).toBeNull()
    expect(m.data.m.figures.length).toBe(7)
  }

  // Subscribe: the dialog, then the grants are recorded at the BFF.
  wxState.subscribeAnswer = (id) => (id === 'TPL_ORDER_STATUS' ? 'reject' : 'accept')
  wxState.requests.length = 0
  await tap(order, '#subscribe')
  await until(() => order.data.subscribed)
  expect(order.data.subscribed).toBe('已订阅此订单 2 类通知')
  expect(wxState.requests.map((r) => r.operation)).toEqual(['RecordSubscriptions', 'FollowOrder'])

  // A real change at the ERP becomes a notification: the BFF's watcher sees it and sends
  // it on the grant just recorded; the message centre lists it.
  await watcherCycled() // the watcher first records the order as it is
  const orderId = order.data.order.id
  await httpJson('POST', `${wxState.info.erp}/__sim/orders/${orderId}`, { action: 'produce' })
  await httpJson('POST', `${wxState.info.erp}/__sim/orders/${orderId}`, { action: 'ship' })
  const messages = await openPage(simulate, 'messages')
  expect(messages.data.error).toBeNull()
  for (let i = 0; i < 120 && messages.data.items.length === 0; i++) {
    await simulate.sleep(500)
    await messages.instance.load(true)
  }
  expect(messages.data.items.length).toBeGreaterThan(0)
  expect(messages.querySelectorAll('.msg').length).toBe(messages.data.items.length)
  expect(messages.data.unread).toBeGreaterThan(0)
  // Opening a message marks it read and goes to its order.
  wxState.nav.length = 0
  await messages.instance.openMessage({ currentTarget: { dataset: { index: 0 } } })
  expect(messages.data.items[0].read).toBe(true)
  expect(wxState.nav.pop().url).toMatch(new RegExp(`^/pages/order/order\\?id=${orderId}\\b`))
  await messages.instance.switchTab({ currentTarget: { dataset: { tab: 'settings' } } })
  expect(messages.data.error).toBeNull()
  // The settings show, per kind, the sends still granted (the ones just used are spent).
  expect(messages.data.kinds.map((k) => k.value)).toEqual(['ORDER_STATUS', 'PRODUCTION_DONE', 'ORDER_SHIPPED'])
  for (const k of messages.data.kinds) expect(typeof k.remaining).toBe('number')
  // Do-not-disturb on and saved.
  wxState.toasts.length = 0
  await messages.instance.toggleDnd()
  expect(wxState.toasts).toContain('已保存')
  await messages.instance.loadSettings()
  expect(messages.data.dnd).toBe(true)
})

test('unbound user: home sends them to binding; ERP account binding works', async () => {
  freshUser('unbound')
  const login = await openPage(simulate, 'login')
  await tap(login, '#agree')
  await login.instance.onLogin()
  wxState.nav.length = 0
  // An unbound user who reaches the home page (e.g. from a shared link) is sent to binding.
  await openPage(simulate, 'home')
  expect(wxState.nav.pop()).toEqual({ kind: 'reLaunch', url: '/pages/login/login?mode=bind' })

  const bind = await openPage(simulate, 'login', { mode: 'bind' })
  expect(bind.data.step).toBe('bind')
  await tap(bind, '#tab-account')
  expect(bind.data.method).toBe('account')
  const demo = await demoSecrets()
  bind.setData({ username: demo.customer.account, password: demo.customer.password })
  await bind.instance.onBind()
  expect(bind.data.error).toBe('')
  expect(bind.data.password).toBe('')
  expect(wxState.nav.pop()).toEqual({ kind: 'switchTab', url: '/pages/home/home' })

  // Profile shows the company; unbinding sends the user back to binding.
  const profile = await openPage(simulate, 'profile')
  expect(profile.data.company.name).toBe(demo.customer.name)
  expect(profile.data.isAdmin).toBe(false)
  expect(profile.querySelector('#monitor')).toBeFalsy()
  await tap(profile, '#unbind')
  await until(() => wxState.nav.length)
  expect(wxState.nav.pop()).toEqual({ kind: 'reLaunch', url: '/pages/login/login?mode=bind' })
})

test('expired session is renewed without the user noticing', async () => {
  await loginAndBind('expired')
  // The stored session is no longer valid (expired or revoked on the server).
  wx.setStorageSync('bff.token', 'expired-session-token')
  const home = await openPage(simulate, 'home')
  expect(home.data.error).toBeNull()
  expect(home.data.items.length).toBeGreaterThan(0)
  expect(wxState.nav).toHaveLength(0) // no trip to the login page
  expect(wxState.requests.map((r) => r.operation)).toEqual(['Home', 'WxLogin', 'Home'])
  expect(wxState.requests[0].codes).toContain('UNAUTHENTICATED')
  expect(wx.getStorageSync('bff.token')).not.toBe('expired-session-token')
})

test('administrators see the monitoring page', async () => {
  freshUser('admin')
  const login = await openPage(simulate, 'login')
  await tap(login, '#agree')
  await login.instance.onLogin()
  const demo = await demoSecrets()
  login.setData({ method: 'account', username: demo.admin.account, password: demo.admin.password })
  await login.instance.onBind()
  const profile = await openPage(simulate, 'profile')
  expect(profile.data.isAdmin).toBe(true)
  expect(profile.querySelector('#monitor')).toBeTruthy()
  const monitor = await openPage(simulate, 'monitor')
  expect(monitor.data.error).toBeNull()
  expect(monitor.data.erp[0].v).toMatch(/UP|DEGRADED|DOWN|UNKNOWN/)
})

// The outage tests come last: after an outage the BFF's circuit breaker stays open a while.
test('ERP down with nothing kept: an error state with a way forward', async () => {
  await loginAndBind('outage2')
  await httpJson('POST', `${wxState.info.erp}/__sim/faults`, { outage: true })
  try {
    const order = await openPage(simulate, 'order', { id: '999999' })
    expect(order.data.error).not.toBeNull()
    expect(order.data.error.actionText).toBeTruthy()
    expect(order.querySelector('#error')).toBeTruthy()
  } finally {
    await erpBack()
  }
})

test('ERP down: the home page shows the kept data under a banner, then recovers', async () => {
  await loginAndBind('outage')
  const home = await openPage(simulate, 'home')
  expect(home.data.banner).toBe('')
  const shown = home.data.items.map((o) => o.code)
  await httpJson('POST', `${wxState.info.erp}/__sim/faults`, { outage: true })
  try {
    await home.instance.onPullDownRefresh()
    expect(home.data.banner).toMatch(/ERP/)
    expect(home.data.items.map((o) => o.code)).toEqual(shown)
    expect(home.querySelector('#banner')).toBeTruthy()
  } finally {
    await erpBack()
  }
  // Back up: the banner goes.
  await home.instance.onPullDownRefresh()
  expect(home.data.banner).toBe('')
  expect(home.data.items.map((o) => o.code)).toEqual(shown)
})
