// Renders the main pages with real demo data (real WXML, WXSS and BFF answers) into HTML
// under build/screens/; scripts/screenshots.js then photographs them in Chromium.
const fs = require('fs')
const path = require('path')
const simulate = require('miniprogram-simulate')
const { installWx, openPage, until, httpJson } = require('../support/wx-shim')
const { pageHtml } = require('../support/to-html')

const OUT = path.resolve(__dirname, '../../build/screens')
let wxState

function save(name, page, title) {
  fs.mkdirSync(OUT, { recursive: true })
  fs.writeFileSync(path.join(OUT, `${name}.html`), pageHtml(page, name === 'order' ? 'order' : name, title))
}

async function loginAs(user, bindWith) {
  wxState.user = user
  wx.removeStorageSync('bff.token')
  const login = await openPage(simulate, 'login')
  login.setData({ agreed: true })
  await login.instance.onLogin()
  if (bindWith) {
    login.setData(bindWith)
    await login.instance.onBind()
  }
  return login
}

test('render the main pages with demo data', async () => {
  wxState = installWx()
  const demo = (await httpJson('GET', `${wxState.info.erp}/__sim/demo`)).data
  const run = Date.now().toString(36)

  // Login: the first screen a new user sees.
  wxState.user = `shot-new-${run}`
  save('login', await openPage(simulate, 'login'), '登录')

  // The purchaser, with a shipment made today so the detail shows a tracking number.
  await loginAs(`shot-buyer-${run}`, { inviteCode: demo.customer.invite_code })
  const home = await openPage(simulate, 'home')
  // An order part-way through (bars neither empty nor full); ship what is produced so it has a tracking number.
  const target = home.data.items.find((o) => o.status === 'IN_PROGRESS' && o.shippedPct > 0 && o.shippedPct < 60) || home.data.items[0]
  await httpJson('POST', `${wxState.info.erp}/__sim/orders/${target.id}`, { action: 'ship' }).catch(() => null)
  wxState.subscribeAnswer = 'accept'
  const order = await openPage(simulate, 'order', { id: target.id })
  order.instance.onSubscribe()
  await until(() => order.data.subscribed)
  await order.instance.load()
  order.setData({ subscribed: '' }) // show the button as a first-time visitor sees it
  const buyerOpenid = (await httpJson('POST', `${wxState.info.wechat}/__sim/wx-login`, { user: wxState.user })).data.openid
  const buyerToken = wx.getStorageSync('bff.token')

  // An administrator sends the purchaser real subscription messages through the BFF.
  await loginAs(`shot-admin-${run}`, { method: 'account', username: demo.admin.account, password: demo.admin.password })
  const o = order.data.order
  const ship = o.shipments.find((s) => s.trackingNumber) || { logisticsCompany: '顺丰速运', trackingNumber: 'SF1234567890' }
  const sends = [
    ['TPL_ORDER_STATUS', { character_string1: o.code, thing2: '订单已进入生产', phrase3: '生产中', time4: '2026-11-20 09:30', thing5: '如有疑问请联系销售代表' }],
    ['TPL_PRODUCTION_DONE', { character_string1: o.code, thing2: o.materials[0] ? o.materials[0].name : '物料', number3: '120', time4: '2026-11-22 16:00', thing5: '即将安排发货' }],
    ['TPL_ORDER_SHIPPED', { character_string1: o.code, thing2: '本次发货 3 项物料', thing3: ship.logisticsCompany, character_string4: ship.trackingNumber, time5: '2026-11-24 10:15' }],
  ]
  const SEND = 'mutation Send($openid: String!, $t: String!, $data: JSON!, $page: String) { sendTemplateMessage(openid: $openid, templateId: $t, data: $data, page: $page, wait: true) { status error } }'
  for (const [t, data] of sends) {
    const res = await httpJson('POST', wxState.info.graphql, { query: SEND, variables: { openid: buyerOpenid, t, data, page: `pages/order/order?id=${o.id}` } }, { authorization: `Bearer ${wx.getStorageSync('bff.token')}` })
    if (res.data.errors || res.data.data.sendTemplateMessage.status !== 'sent') console.warn('send:', JSON.stringify(res.data))
  }

  // Back as the purchaser: home, order, messages, profile.
  wxState.user = `shot-buyer-${run}`
  wx.setStorageSync('bff.token', buyerToken)
  save('home', await openPage(simulate, 'home'), '我的订单')
  save('order', await openPage(simulate, 'order', { id: target.id }), o.code)
  const messages = await openPage(simulate, 'messages')
  save('messages', messages, '消息')
  const profile = await openPage(simulate, 'profile')
  profile.setData({ nickname: '王采购' })
  save('profile', profile, '我的')
  for (const n of ['login', 'home', 'order', 'messages', 'profile']) expect(fs.existsSync(path.join(OUT, `${n}.html`))).toBe(true)
  expect(messages.data.items.length).toBeGreaterThan(0)
})
