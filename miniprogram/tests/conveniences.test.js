// What purchasers expect of an order app, against the demo BFF: a notification tapped while signed
// out lands on its order after login, the 消息 tab's unread badge, marking one message read sends
// only that one, 注销账号 with its confirmation, the profile's two requests together, the right
// hint on an empty search.
const simulate = require('miniprogram-simulate')
const { openPage, until, queryOf, httpJson } = require('./support/wx-shim')
const { session, tap } = require('./support/flow')
const { SERVICE_KEY } = require('./support/bff')

jest.setTimeout(60000)

let wxState, freshUser, demoSecrets, loginAndBind

beforeAll(() => {
  ;({ wxState, freshUser, demoSecrets, loginAndBind } = session())
})

afterEach(() => {
  wxState.delayReply = () => 0
  wxState.modalConfirm = true
})

const SEND = `mutation Send($openid: String!, $t: String!, $data: JSON!, $page: String) {
  sendTemplateMessage(openid: $openid, templateId: $t, data: $data, page: $page, wait: true) { status error } }`

/** One order-status message to the current user, as the BFF's outbox sends it (X-Service-Key). */
async function messageAbout(order) {
  const openid = (await httpJson('POST', `${wxState.info.wechat}/__sim/wx-login`, { user: wxState.user })).data.openid
  await httpJson('POST', `${wxState.info.wechat}/__sim/grants`, { openid, template_id: 'TPL_ORDER_STATUS', count: 1 })
  const data = { character_string1: order.code, thing2: '订单已进入生产', phrase3: '生产中', time4: '2026-11-20 09:30', thing5: '如有疑问请联系销售代表' }
  const res = await httpJson('POST', wxState.info.graphql, { query: SEND, variables: { openid, t: 'TPL_ORDER_STATUS', data, page: `pages/order/order?id=${order.id}` } }, { 'x-service-key': SERVICE_KEY })
  expect(res.data.data.sendTemplateMessage.status).toBe('sent')
}

test('a notification tapped while signed out: login, binding, then its order — not the list', async () => {
  freshUser('notified')
  const target = { id: '1001', msg: 'm-42' }
  await openPage(simulate, 'order', target)
  const nav = wxState.nav.pop()
  expect(nav.kind).toBe('reLaunch')
  expect(nav.url).toMatch(/^\/pages\/login\/login\?mode=login&next=/)
  const login = await openPage(simulate, 'login', queryOf(nav.url))
  await tap(login, '#agree')
  await login.instance.onLogin()
  expect(login.data.step).toBe('bind')
  login.setData({ inviteCode: (await demoSecrets()).customer.invite_code })
  await login.instance.onBind()
  expect(wxState.nav.pop()).toEqual({ kind: 'reLaunch', url: '/pages/order/order?id=1001&msg=m-42' })
})

test('the 消息 badge counts unread messages; opening one marks only that one read', async () => {
  await loginAndBind('badge')
  const home = await openPage(simulate, 'home')
  expect(wxState.badge).toBe('') // nothing unread: no badge
  const order = home.data.items[0]
  await messageAbout(order)
  await messageAbout(order)
  await home.instance.onPullDownRefresh()
  expect(wxState.badge).toBe('2') // the home request carries the count: no extra request
  expect(wxState.requests.filter((r) => r.operation === 'Messages')).toHaveLength(0)

  const messages = await openPage(simulate, 'messages')
  expect(messages.data.unread).toBe(2)
  const sent = []
  const setData = messages.instance.setData.bind(messages.instance)
  messages.instance.setData = (data, cb) => (sent.push(data), setData(data, cb))
  wxState.requests.length = 0
  await messages.instance.openMessage({ currentTarget: { dataset: { index: 1 } } })
  await until(() => wxState.requests.some((r) => r.operation === 'MarkMessageRead'))
  const marks = wxState.requests.filter((r) => r.operation === 'MarkMessageRead')
  expect(marks.map((r) => r.variables)).toEqual([{ id: messages.data.items[1].id }])
  expect(sent).toEqual([{ 'items[1].read': true, unread: 1 }]) // one row by path, not the list
  expect(messages.data.items.map((m) => m.read)).toEqual([false, true])
  expect(wxState.badge).toBe('1')
})

test('注销账号: a tick, a confirmation, then nothing of the user is left, on the device or at the BFF', async () => {
  await loginAndBind('delete-me')
  await openPage(simulate, 'home') // something kept on the device
  const token = wx.getStorageSync('bff.token')
  const profile = await openPage(simulate, 'profile')
  await tap(profile, '#open-delete')
  expect(wxState.nav.pop()).toEqual({ kind: 'navigateTo', url: '/packages/account/delete/delete' })
  const page = await openPage(simulate, 'packages/account/delete/delete')
  wxState.requests.length = 0
  await page.instance.onDelete()
  expect(wxState.requests).toEqual([]) // not before the tick
  await tap(page, '#understood')
  wxState.modalConfirm = false
  await page.instance.onDelete()
  expect(wxState.requests).toEqual([]) // nor when the confirmation is cancelled
  wxState.modalConfirm = true
  await page.instance.onDelete()
  await until(() => wxState.nav.length)
  expect(wxState.requests.map((r) => r.operation)).toEqual(['DeleteMyAccount'])
  expect(wxState.nav.pop()).toEqual({ kind: 'reLaunch', url: '/pages/login/login?mode=login' })
  expect(wx.getStorageSync('bff.token')).toBe('')
  expect(wx.getStorageSync('keep:index')).toBe('')
  const me = await httpJson('POST', wxState.info.graphql, { query: '{ me { openid } }' }, { authorization: `Bearer ${token}` })
  expect(me.data.errors[0].extensions.code).toBe('UNAUTHENTICATED')
})

test('the profile sends its two requests together', async () => {
  await loginAndBind('parallel')
  wxState.delayReply = (r) => (r.operation === 'Me' ? 300 : 0)
  const opening = openPage(simulate, 'profile')
  await until(() => wxState.requests.some((r) => r.operation === 'SystemStatus'))
  expect(wxState.requests.find((r) => r.operation === 'Me').status).toBeUndefined() // still waiting for Me
  const profile = await opening
  await until(() => profile.data.status)
  expect(profile.data.status.text).toBeTruthy()
})

test('an empty search says what to check, not “下单后…”', async () => {
  await loginAndBind('empty-search')
  const home = await openPage(simulate, 'home')
  home.setData({ keyword: 'ZZQX-NOTHING-42' })
  await home.instance.onSearch()
  expect(home.data.items).toEqual([])
  expect(home.querySelector('#empty-hint').dom.textContent).toContain('请核对订单号')
})
