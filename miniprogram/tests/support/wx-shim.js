// A `wx` for the tests: wx.request really goes to the demo BFF, wx.login asks the WeChat
// simulator for a code (what the phone would get), and the UI-only APIs record what the
// page asked for so the flows can follow navigation, toasts, the clipboard and dialogs.
const fs = require('fs')
const http = require('http')
const path = require('path')

function bffInfo() {
  return JSON.parse(fs.readFileSync(process.env.MP_BFF_INFO, 'utf8'))
}

function httpJson(method, url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const req = http.request(
      { method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) } },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let data = text
          try {
            data = JSON.parse(text)
          } catch (_e) {
            // not JSON: hand the text over as wx.request would
          }
          resolve({ statusCode: res.statusCode, data, header: res.headers })
        })
      },
    )
    req.on('error', reject)
    if (payload) req.write(payload)
    req.end()
  })
}

function installWx() {
  const info = bffInfo()
  const storage = new Map()
  const state = {
    info,
    user: 'mp-user',
    requests: [], // every wx.request: { url, operation, status, codes }
    nav: [],
    toasts: [],
    clipboard: [],
    subscribeAnswer: 'accept',
    scanResult: '',
    modalConfirm: true,
  }
  const ok = (o, res) => {
    if (o && o.success) o.success(res)
    if (o && o.complete) o.complete(res)
  }
  const shim = {
    getAccountInfoSync: () => ({ miniProgram: { envVersion: 'develop', appId: 'wx-demo-appid' } }),
    getStorageSync: (k) => (storage.has(k) ? storage.get(k) : ''),
    setStorageSync: (k, v) => storage.set(k, v),
    removeStorageSync: (k) => storage.delete(k),
    request(o) {
      const op = ((o.data && o.data.query) || '').match(/(?:query|mutation)\s+(\w+)/)
      const entry = { url: o.url, operation: op ? op[1] : '?' }
      state.requests.push(entry)
      httpJson(o.method || 'GET', o.url, o.data, o.header).then(
        (res) => {
          entry.status = res.statusCode
          entry.codes = ((res.data && res.data.errors) || []).map((e) => e.extensions && e.extensions.code)
          ok(o, res)
        },
        (err) => o.fail && o.fail({ errMsg: `request:fail ${err.message}` }),
      )
      return { abort() {} }
    },
    login(o) {
      httpJson('POST', `${info.wechat}/__sim/wx-login`, { user: state.user }).then(
        (res) => ok(o, { code: res.data.code, errMsg: 'login:ok' }),
        () => o.fail && o.fail({ errMsg: 'login:fail' }),
      )
    },
    navigateTo: (o) => (state.nav.push({ kind: 'navigateTo', url: o.url }), ok(o, {})),
    redirectTo: (o) => (state.nav.push({ kind: 'redirectTo', url: o.url }), ok(o, {})),
    reLaunch: (o) => (state.nav.push({ kind: 'reLaunch', url: o.url }), ok(o, {})),
    switchTab: (o) => (state.nav.push({ kind: 'switchTab', url: o.url }), ok(o, {})),
    showToast: (o) => (state.toasts.push(o.title), ok(o, {})),
    showModal: (o) => ok(o, { confirm: state.modalConfirm, cancel: !state.modalConfirm }),
    setClipboardData: (o) => (state.clipboard.push(o.data), ok(o, {})),
    scanCode: (o) => ok(o, { result: state.scanResult, scanType: 'QR_CODE' }),
    requestSubscribeMessage(o) {
      // As on a phone: WeChat's server records each accept (one send), then the page is told.
      const res = { errMsg: 'requestSubscribeMessage:ok' }
      for (const id of o.tmplIds) res[id] = typeof state.subscribeAnswer === 'function' ? state.subscribeAnswer(id) : state.subscribeAnswer
      const accepted = o.tmplIds.filter((id) => res[id] === 'accept')
      httpJson('POST', `${info.wechat}/__sim/wx-login`, { user: state.user })
        .then(({ data }) => Promise.all(accepted.map((id) => httpJson('POST', `${info.wechat}/__sim/grants`, { openid: data.openid, template_id: id, count: 1 }))))
        .then(() => ok(o, res), () => o.fail && o.fail({ errMsg: 'requestSubscribeMessage:fail' }))
    },
    stopPullDownRefresh: () => undefined,
    setNavigationBarTitle: () => undefined,
  }
  Object.assign(global.wx, shim)
  // The client reads the BFF address from this developer override (see src/config.ts).
  storage.set('bff.baseUrl', info.base)
  return state
}

/** Loads a compiled page, renders it, runs onLoad and waits for its requests to settle. */
const loaded = {}

async function openPage(simulate, name, query = {}) {
  const dist = path.resolve(__dirname, '../../dist')
  // A page's definition is registered once (its module runs once); each open renders anew.
  const id = loaded[name] || (loaded[name] = simulate.load(path.join(dist, 'pages', name, name), { compiler: 'simulate', rootPath: dist }))
  const comp = simulate.render(id)
  comp.attach(document.createElement('parent-wrapper'))
  await comp.instance.onLoad(query)
  return comp
}

/** Resolves when fn() is truthy (pages update asynchronously after taps). */
async function until(fn, timeoutMs = 10000) {
  const start = Date.now()
  for (;;) {
    const v = fn()
    if (v) return v
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for condition')
    await new Promise((r) => setTimeout(r, 20))
  }
}

function queryOf(url) {
  const q = {}
  const s = url.split('?')[1] || ''
  for (const pair of s.split('&')) if (pair) q[decodeURIComponent(pair.split('=')[0])] = decodeURIComponent(pair.split('=')[1] || '')
  return q
}

module.exports = { installWx, openPage, until, queryOf, httpJson, bffInfo }
