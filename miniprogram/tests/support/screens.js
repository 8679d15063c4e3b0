// Renders the main pages with real demo data (real WXML, WXSS and BFF answers) into HTML
// files: used by the screenshots (npm run screenshots) and by tests/rendered.test.js, which
// measures them in Chromium. Needs installWx() first; writes only under `outDir`.
const fs = require('fs')
const path = require('path')
const simulate = require('miniprogram-simulate')
const { openPage, until, httpJson, watcherCycled } = require('./wx-shim')
const { pageHtml } = require('./to-html')

const PAGES = ['login', 'home', 'order', 'messages', 'messages-settings', 'profile']

async function loginAs(wxState, user, bindWith) {
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

/** Renders PAGES to `${outDir}/<page>.html`; returns the simulated pages by name. */
async function renderScreens(wxState, outDir) {
  fs.mkdirSync(outDir, { recursive: true })
  const save = (name, page, title, folder = name) => fs.writeFileSync(path.join(outDir, `${name}.html`), pageHtml(page, folder, title))
  const demo = (await httpJson('GET', `${wxState.info.erp}/__sim/demo`)).data
  const run = Date.now().toString(36)
  const pages = {}

  // Login: the first screen a new user sees.
  wxState.user = `shot-new-${run}`
  wx.removeStorageSync('bff.token')
  pages.login = await openPage(simulate, 'login')
  save('login', pages.login, '登录')

  // The purchaser follows an order part-way through whose dispatched shipment carries a remark
  // (the actual carrier and route): the detail shows its remark and contents.
  await loginAs(wxState, `shot-buyer-${run}`, { inviteCode: demo.customer.invite_code })
  const home = await openPage(simulate, 'home')
  await home.instance.onFilter({ currentTarget: { dataset: { value: 'IN_PROGRESS' } } })
  let target = null
  for (const item of home.data.items.filter((x) => x.shippedPct > 0 && x.shippedPct < 100 && !x.awaiting)) {
    const detail = await openPage(simulate, 'order', { id: item.id })
    if (detail.data.order && detail.data.order.shipments.some((x) => x.remark && x.state === 'DISPATCHED')) {
      target = item
      break
    }
  }
  target = target || home.data.items[0]
  wxState.subscribeAnswer = 'accept'
  const order = await openPage(simulate, 'order', { id: target.id })
  order.instance.onSubscribe()
  await until(() => order.data.subscribed)
  // A real change becomes a real message: the watcher first records the order as it is.
  await watcherCycled()
  await httpJson('POST', `${wxState.info.erp}/__sim/orders/${target.id}`, { action: 'produce' }).catch(() => null)
  await httpJson('POST', `${wxState.info.erp}/__sim/orders/${target.id}`, { action: 'ship' }).catch(() => null)
  const buyerOpenid = (await httpJson('POST', `${wxState.info.wechat}/__sim/wx-login`, { user: wxState.user })).data.openid
  const buyerToken = wx.getStorageSync('bff.token')
  const inbox = await openPage(simulate, 'messages')
  for (let i = 0; i < 40 && inbox.data.items.length < 2; i++) {
    await simulate.sleep(500)
    await inbox.instance.load(true)
  }
  await order.instance.load()
  const o = order.data.order

  // An administrator sends one more through the BFF (a legacy client's path): it names the order too.
  await loginAs(wxState, `shot-admin-${run}`, { method: 'account', username: demo.admin.account, password: demo.admin.password })
  const SEND = 'mutation Send($openid: String!, $t: String!, $data: JSON!, $page: String) { sendTemplateMessage(openid: $openid, templateId: $t, data: $data, page: $page, wait: true) { status error } }'
  const data = { character_string1: o.code, thing2: '订单已进入生产', phrase3: '生产中', time4: '2026-11-20 09:30', thing5: '如有疑问请联系销售代表' }
  await httpJson('POST', `${wxState.info.wechat}/__sim/grants`, { openid: buyerOpenid, template_id: 'TPL_ORDER_STATUS', count: 1 })
  const res = await httpJson('POST', wxState.info.graphql, { query: SEND, variables: { openid: buyerOpenid, t: 'TPL_ORDER_STATUS', data, page: `pages/order/order?id=${o.id}` } }, { authorization: `Bearer ${wx.getStorageSync('bff.token')}` })
  if (res.data.errors || res.data.data.sendTemplateMessage.status !== 'sent') console.warn('send:', JSON.stringify(res.data))

  // Back as the purchaser: home, order (as a first-time visitor sees the button), messages, profile.
  wxState.user = `shot-buyer-${run}`
  wx.setStorageSync('bff.token', buyerToken)
  pages.home = await openPage(simulate, 'home')
  save('home', pages.home, '我的订单')
  pages.order = await openPage(simulate, 'order', { id: target.id })
  save('order', pages.order, o.code)
  pages.messages = await openPage(simulate, 'messages')
  save('messages', pages.messages, '消息')
  // The settings as a purchaser sees them once a kind's grants are spent: 再次订阅.
  pages.settings = await openPage(simulate, 'messages')
  await pages.settings.instance.switchTab({ currentTarget: { dataset: { tab: 'settings' } } })
  save('messages-settings', pages.settings, '消息', 'messages')
  pages.profile = await openPage(simulate, 'profile')
  // A nickname set the way a phone sets it: typed, reviewed by WeChat, checked by the BFF.
  pages.profile.instance.onNicknameInput({ detail: { value: '王采购' } })
  await pages.profile.instance.onNicknameReview({ detail: { pass: true, timeout: false } })
  save('profile', pages.profile, '我的')
  return pages
}

module.exports = { PAGES, renderScreens }
