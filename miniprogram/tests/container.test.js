// The WeChat Cloud Run transport (build config transport 'container'; here the developer
// override bff.container): every request goes through wx.cloud.callContainer to our environment
// and service, the gateway (a stand-in in the wx shim) vouches for the user with X-WX-* headers,
// and the BFF trusts them (trusted-header mode): no wx.login, no token, nothing over wx.request.
// The https transport is what every other test file drives.
const fs = require('fs')
const path = require('path')
const simulate = require('miniprogram-simulate')
const { openPage, until } = require('./support/wx-shim')
const { session, tap } = require('./support/flow')

jest.setTimeout(60000)

const TARGET = { env: 'prod-huicai-1a2b', service: 'huicai-bff' }
const PNG = fs.readFileSync(path.resolve(__dirname, '../src/images/tab-home-active.png'))
let wxState, freshUser, demoSecrets

beforeAll(() => {
  ;({ wxState, freshUser, demoSecrets } = session())
  wx.setStorageSync('bff.container', TARGET)
  wxState.container = TARGET
  // app.ts initialises wx.cloud in container mode, as WeChat's documentation asks.
  let appConfig = null
  global.App = (config) => (appConfig = config)
  wx.onNeedPrivacyAuthorization = () => undefined
  wx.getUpdateManager = () => ({ onUpdateReady() {} })
  jest.isolateModules(() => require('../dist/app.js'))
  appConfig.onLaunch.call(appConfig)
})

afterAll(() => {
  wx.removeStorageSync('bff.container')
})

test('app.ts initialises wx.cloud with the environment', () => {
  expect(wxState.cloudInit).toEqual({ env: TARGET.env })
})

test('login → bind → home → order → attachment → avatar, all through callContainer, no token', async () => {
  freshUser('container')
  wx.removeStorageSync('bff.user')
  await openPage(simulate, 'home')
  expect(wxState.nav.pop()).toEqual({ kind: 'reLaunch', url: '/pages/login/login?mode=login' })

  const login = await openPage(simulate, 'login')
  await tap(login, '#agree')
  await login.instance.onLogin()
  expect(login.data.step).toBe('bind') // the platform's user, not yet bound
  login.setData({ inviteCode: (await demoSecrets()).customer.invite_code })
  await login.instance.onBind()
  expect(wxState.nav.pop()).toEqual({ kind: 'switchTab', url: '/pages/home/home' })

  const home = await openPage(simulate, 'home')
  expect(home.data.error).toBeNull()
  expect(home.data.items.length).toBe(10)
  await home.instance.onFilter({ currentTarget: { dataset: { value: 'COMPLETED' } } })
  let order = null
  for (const item of home.data.items) {
    order = await openPage(simulate, 'order', { id: item.id })
    if (order.data.order.shipments.some((s) => s.attachments.length)) break
  }
  wxState.opened.length = 0
  await tap(order, '.attachment')
  await until(() => wxState.opened.length)
  expect(wxState.opened[0].path).toMatch(/^wxfile:\/\/usr\/attachment-/) // written from the answer's bytes
  expect(wxState.opened[0].bytes.length).toBeGreaterThan(0)

  const profile = await openPage(simulate, 'profile')
  const temp = `http://tmp/${wxState.user}-avatar.png`
  wxState.tempFiles.set(temp, PNG)
  await profile.instance.onChooseAvatar({ detail: { avatarUrl: temp } })
  expect(profile.data.avatarUrl).toMatch(/\/api\/avatars\/[0-9a-f]{32}\.jpg$/)

  const ops = wxState.requests.map((r) => r.operation)
  expect(ops).toEqual(expect.arrayContaining(['Me', 'BindCompany', 'Home', 'OrderDetail', '/api/user/avatar']))
  expect(wxState.requests.every((r) => r.via === 'container')).toBe(true)
  expect(ops).not.toContain('WxLogin')
  expect(wxState.requests.some((r) => r.header && r.header.Authorization)).toBe(false)
  expect(wxState.requests.every((r) => r.header['X-WX-SERVICE'] === TARGET.service)).toBe(true)
  expect(wx.getStorageSync('bff.token')).toBe('')
})

test('a wrong service name fails like a network error: the device’s copy stays shown, said so', async () => {
  wx.setStorageSync('bff.container', { ...TARGET, service: 'other-service' })
  wxState.requests.length = 0
  try {
    const home = await openPage(simulate, 'home')
    expect(wxState.requests.map((r) => r.status)).toEqual([undefined]) // the gateway refused it
    expect(home.data.offline).toBe('网络不可用，请检查网络后重试')
    expect(home.data.items.length).toBe(10)
  } finally {
    wx.setStorageSync('bff.container', TARGET)
  }
})
