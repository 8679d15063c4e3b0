// Shared steps of the page flows: a tap, a fresh WeChat user, login and binding as a
// purchaser of the demo company. Each test file calls session() once (in beforeAll).
const simulate = require('miniprogram-simulate')
const { installWx, openPage, httpJson } = require('./wx-shim')

/** j-component delivers events asynchronously: let the handler start before going on. */
async function tap(page, selector, event = 'tap') {
  const node = page.querySelector(selector)
  if (!node) throw new Error(`nothing to tap at ${selector}`)
  node.dispatchEvent(event)
  await simulate.sleep(5)
}

function session() {
  const wxState = installWx()
  const run = Date.now().toString(36)

  function freshUser(name) {
    // A new WeChat user each time: the simulator maps a name to a stable openid.
    wxState.user = `${name}-${run}`
    wx.removeStorageSync('bff.token')
    wxState.nav.length = 0
    wxState.requests.length = 0
  }

  async function demoSecrets() {
    return (await httpJson('GET', `${wxState.info.erp}/__sim/demo`)).data
  }

  async function loginAndBind(name) {
    freshUser(name)
    const login = await openPage(simulate, 'login')
    await tap(login, '#agree')
    await login.instance.onLogin()
    const demo = await demoSecrets()
    login.setData({ inviteCode: demo.customer.invite_code })
    await login.instance.onBind()
    // When binding fails, the failure says why: the page's words and what the BFF answered.
    const answered = wxState.requests.map((r) => [r.operation, r.status, ...(r.codes || [])])
    expect({ error: login.data.error, answered }).toEqual({ error: '', answered: [['WxLogin', 200], ['BindCompany', 200]] })
    expect(wxState.nav.pop()).toEqual({ kind: 'switchTab', url: '/pages/home/home' })
    wxState.nav.length = 0
    wxState.requests.length = 0
  }

  return { wxState, run, freshUser, demoSecrets, loginAndBind }
}

module.exports = { tap, session }
