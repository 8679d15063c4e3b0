// On a weak network, against the demo BFF: a failed refresh never wipes the screen (the last good
// answer is kept on the device per user, shown with its age), a query that timed out is sent once
// more, attachments check their answer and show the BFF's own words, and a download renews the
// session like every request. Requests fail the way wx.request fails on a phone (the wx shim).
const simulate = require('miniprogram-simulate')
const { openPage, until, httpJson } = require('./support/wx-shim')
const { session, tap } = require('./support/flow')
const { fileSize } = require('../dist/lib/format')

jest.setTimeout(90000)

let wxState, loginAndBind

beforeAll(() => {
  ;({ wxState, loginAndBind } = session())
})

afterEach(() => {
  wxState.failRequests = () => null
  wxState.shedRequests = () => 0
  wxState.modalConfirm = true
})

const keptKeys = () => {
  const index = wx.getStorageSync('keep:index')
  return Array.isArray(index) ? index : []
}
const operations = (name) => wxState.requests.filter((r) => r.operation === name)

test('home: a failed pull-to-refresh keeps the list with its age; a timed-out query is sent once more', async () => {
  await loginAndBind('weak-home')
  const home = await openPage(simulate, 'home')
  const shown = home.data.items.map((o) => o.code)
  expect(shown.length).toBe(10)
  expect(home.data.keptAt).toBe('')

  wxState.requests.length = 0
  wxState.failRequests = (r) => (r.operation === 'Home' ? 'request:fail timeout' : null)
  await home.instance.onPullDownRefresh()
  expect(operations('Home')).toHaveLength(2) // the timeout, then once more (a read is idempotent)
  expect(home.data.items.map((o) => o.code)).toEqual(shown)
  expect(home.data.error).toBeNull()
  expect(home.data.keptAt).toMatch(/^今天 \d\d:\d\d$/)
  expect(home.querySelector('#offline').dom.textContent).toContain(`上次更新（${home.data.keptAt}）`)
  expect(home.querySelectorAll('.order').length).toBe(10)

  // Not a timeout (no network at all): no second try, the list stays all the same.
  wxState.requests.length = 0
  wxState.failRequests = (r) => (r.operation === 'Home' ? 'request:fail' : null)
  await home.instance.onPullDownRefresh()
  expect(operations('Home')).toHaveLength(1)
  expect(home.data.items.map((o) => o.code)).toEqual(shown)
  expect(home.data.offline).toBe('网络不可用，请检查网络后重试')

  // Back online: the banner goes.
  wxState.failRequests = () => null
  await home.instance.onPullDownRefresh()
  expect(home.data.offline).toBe('')
  expect(home.data.keptAt).toBe('')
  expect(home.querySelector('#offline')).toBeFalsy()
})

test('home, opened anew without a network: the device’s copy at once, with its age; a filter never kept says so', async () => {
  await loginAndBind('weak-open')
  const first = await openPage(simulate, 'home')
  const shown = first.data.items.map((o) => o.code)
  wxState.failRequests = () => 'request:fail'
  const again = await openPage(simulate, 'home')
  expect(again.data.items.map((o) => o.code)).toEqual(shown)
  expect(again.data.error).toBeNull()
  expect(again.data.keptAt).toMatch(/^今天 /)
  expect(again.querySelector('#kept').dom.textContent).toContain('上次更新')
  expect(again.querySelector('#offline')).toBeTruthy()
  // A filter whose list was never loaded has no copy: the error state, with its way forward.
  await again.instance.onFilter({ currentTarget: { dataset: { value: 'CANCELLED' } } })
  expect(again.data.items).toEqual([])
  expect(again.data.error.message).toBe('网络不可用，请检查网络后重试')
  expect(again.querySelector('#error')).toBeTruthy()
  // Back to 全部: its copy again.
  await again.instance.onFilter({ currentTarget: { dataset: { value: '' } } })
  expect(again.data.items.map((o) => o.code)).toEqual(shown)
})

test('order page: a failed refresh keeps the order (and what its shipments carry); logout forgets every copy', async () => {
  await loginAndBind('weak-order')
  const home = await openPage(simulate, 'home')
  await home.instance.onFilter({ currentTarget: { dataset: { value: 'COMPLETED' } } })
  const id = home.data.items[0].id
  const order = await openPage(simulate, 'order', { id })
  await until(() => order.data.order.shipments.every((s) => s.linesLoaded))
  const code = order.data.order.code
  const goods = order.data.order.shipments.flatMap((s) => s.lines)

  wxState.failRequests = () => 'request:fail timeout'
  await order.instance.onPullDownRefresh()
  expect(order.data.order.code).toBe(code)
  expect(order.data.error).toBeNull()
  expect(order.querySelector('#offline').dom.textContent).toContain('上次更新')

  const reopened = await openPage(simulate, 'order', { id })
  expect(reopened.data.error).toBeNull()
  expect(reopened.data.order.code).toBe(code)
  expect(reopened.data.order.shipments.flatMap((s) => s.lines)).toEqual(goods)
  expect(reopened.data.keptAt).toMatch(/^今天 /)
  expect(reopened.querySelector('.step')).toBeTruthy()

  // Signing out leaves nothing of the user on the device.
  wxState.failRequests = () => null
  expect(keptKeys().length).toBeGreaterThan(0)
  const profile = await openPage(simulate, 'profile')
  await profile.instance.onLogout()
  expect(keptKeys()).toEqual([])
  expect(wx.getStorageSync('bff.token')).toBe('')
  expect(wx.getStorageSync('bff.user')).toBe('')
})

test('shed by the BFF (503 OVERLOADED): sent once more after its wait; shed again, the page says so and 重试 loads', async () => {
  await loginAndBind('shed')
  wxState.shedRequests = (r) => (r.operation === 'Home' ? 1 : 0)
  const home = await openPage(simulate, 'home')
  const sent = operations('Home')
  expect(sent.map((r) => r.status)).toEqual([503, 503]) // once more, not again and again
  expect(sent[1].at - sent[0].at).toBeGreaterThanOrEqual(950) // after the wait it was told (1 s)
  expect(home.data.error.message).toBe('访问人数较多，请稍等几秒后重试')
  expect(home.querySelector('#error').dom.textContent).toContain('重试')

  // Shed once, then served: the purchaser never sees the refusal.
  wxState.requests.length = 0
  let shedOnce = 1
  wxState.shedRequests = (r) => (r.operation === 'Home' && shedOnce ? shedOnce-- : 0)
  await home.instance.onRetry()
  expect(operations('Home').map((r) => r.status)).toEqual([503, 200])
  expect(home.data.error).toBeNull()
  expect(home.data.items.length).toBe(10)

  // A mutation too: refused at the door, it did nothing, so it is sent once more (WeChat login).
  wxState.requests.length = 0
  shedOnce = 1
  wxState.shedRequests = (r) => (r.operation === 'WxLogin' && shedOnce ? shedOnce-- : 0)
  wx.removeStorageSync('bff.token')
  await home.instance.onRetry()
  expect(operations('WxLogin').map((r) => r.status)).toEqual([503, 200])
  expect(home.data.error).toBeNull()
})

async function orderWithAttachment() {
  const home = await openPage(simulate, 'home')
  await home.instance.onFilter({ currentTarget: { dataset: { value: 'COMPLETED' } } })
  for (const item of home.data.items) {
    const page = await openPage(simulate, 'order', { id: item.id })
    if (page.data.order.shipments.some((x) => x.attachments.length)) return page
  }
  throw new Error('no order with an attachment')
}

test('an attachment with an expired session: renewed once, then the file (not an error) is opened', async () => {
  await loginAndBind('files-expired')
  const order = await orderWithAttachment()
  wx.setStorageSync('bff.token', 'expired-session-token')
  wxState.requests.length = 0
  wxState.opened.length = 0
  await tap(order, '.attachment')
  await until(() => wxState.opened.length)
  expect(wxState.requests.map((r) => [r.operation, r.status])).toEqual([['downloadFile', 401], ['WxLogin', 200], ['downloadFile', 200]])
  const [opened] = wxState.opened
  expect(opened.bytes.toString('utf8', 0, 1)).not.toBe('{') // never the JSON error handed over as the file
  // Its size was on the row before the tap: what the ERP lists is what came.
  const row = order.querySelector('.attachment .att-size')
  expect(row.dom.textContent).toBe(fileSize(opened.bytes.length))
  expect(row.dom.textContent).toMatch(/^\d+(\.\d)? (B|KB|MB)$/)
  expect(order.data.opening).toBe('')
  expect(wxState.modals).toEqual([])
})

test('an attachment on no network: 重试 offered, nothing opened; while it loads the row says so', async () => {
  await loginAndBind('files-offline')
  const order = await orderWithAttachment()
  wxState.opened.length = 0
  wxState.modals.length = 0
  wxState.modalConfirm = false // the user closes the dialog
  wxState.failRequests = (r) => (r.operation === 'downloadFile' ? 'request:fail timeout' : null)
  const url = order.data.order.shipments.flatMap((s) => s.attachments)[0].url
  const opening = order.instance.openAttachment({ currentTarget: { dataset: { url, name: 'x.pdf' } } })
  expect(order.data.opening).toBe(url) // set at once, before the download answers
  expect(order.querySelector('.attachment').dom.textContent).toContain('正在打开')
  await opening
  expect(wxState.opened).toEqual([])
  expect(wxState.modals).toEqual([{ title: '附件打不开', content: '网络不可用，请检查网络后重试', confirmText: '重试' }])
})

// After an outage the BFF's circuit breaker stays open a while: the test files that run next bind
// users, so this one waits until the BFF says the ERP is up again (the event, not a time).
async function erpBackUp() {
  for (const start = Date.now(); Date.now() - start < 120000; ) {
    const health = await httpJson('GET', `${wxState.info.base}/api/health/check`)
    const erp = health.data && health.data.erp
    if (erp && erp.state === 'UP' && erp.circuit === 'CLOSED') return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('the ERP did not come back up within 2 minutes')
}

test('an attachment while the ERP is down: the BFF’s own Chinese message, nothing opened', async () => {
  await loginAndBind('files-erp-down')
  const order = await orderWithAttachment()
  wxState.opened.length = 0
  wxState.modals.length = 0
  wxState.modalConfirm = false
  await httpJson('POST', `${wxState.info.erp}/__sim/faults`, { outage: true })
  try {
    await tap(order, '.attachment')
    await until(() => wxState.modals.length)
  } finally {
    await httpJson('POST', `${wxState.info.erp}/__sim/faults/reset`, {})
    await erpBackUp()
  }
  const download = wxState.requests.filter((r) => r.operation === 'downloadFile').pop()
  expect(download.status).toBe(503)
  expect(wxState.opened).toEqual([])
  const [modal] = wxState.modals
  expect(modal.content).toMatch(/[\u4e00-\u9fa5]/)
  expect(modal.content).not.toBe('系统繁忙，请稍后重试') // the BFF's message, not the client's fallback
  expect(modal.confirmText).toBe('重试')
  console.log(`attachment with the ERP down: “${modal.content}”`)
})
