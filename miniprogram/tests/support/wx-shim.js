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

/** multipart/form-data of one file, as wx.uploadFile sends it. */
function multipart(field, filename, bytes) {
  const boundary = `----wxupload${Date.now().toString(16)}`
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return { body: Buffer.concat([head, bytes, tail]), type: `multipart/form-data; boundary=${boundary}` }
}

function httpRaw(method, url, body, headers) {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const length = body ? { 'content-length': body.length } : {}
    const req = http.request({ method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers: { ...headers, ...length } }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const bytes = Buffer.concat(chunks)
        resolve({ statusCode: res.statusCode, data: bytes.toString('utf8'), body: bytes })
      })
    })
    req.on('error', reject)
    req.end(body || undefined)
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
    scrolls: [],
    subscribeAnswer: 'accept',
    tempFiles: new Map(), // temporary local paths (http://tmp/…, wxfile://…) → bytes, as chooseAvatar leaves them
    delayReply: () => 0, // ms before a wx.request reply is delivered (a slow network for one request)
    inFlight: 0,
    scanResult: '',
    modalConfirm: true,
    // wx.getSetting's subscriptionsSetting: what the user switched on or off in WeChat.
    subscriptionsSetting: { mainSwitch: true, itemSettings: {} },
    opened: [], // files opened by wx.openDocument / wx.previewImage: { how, path, bytes }
    modals: [], // wx.showModal: { title, content, confirmText }
    // A weak network: wx.request / downloadFile / callContainer calls for which this answers an
    // errMsg fail as on a phone ('request:fail timeout', 'request:fail ...'), never reaching the BFF.
    failRequests: () => null,
    // The BFF's admission shedding a wx.request: seconds of the 503 OVERLOADED it answers (in the
    // GraphQL shape of bff/web/gql.py refusal(), tests/test_edge_fair.py), or 0 to reach the BFF.
    shedRequests: () => 0,
    cloudInit: null, // what wx.cloud.init was given
  }
  const ok = (o, res) => {
    if (o && o.success) o.success(res)
    if (o && o.complete) o.complete(res)
  }
  const shim = {
    getAccountInfoSync: () => ({ miniProgram: { envVersion: 'develop', appId: 'wx-demo-appid' } }),
    getStorageSync: (k) => (storage.has(k) ? JSON.parse(storage.get(k)) : ''),
    // WeChat stores a copy (serialised), never the caller's object.
    setStorageSync: (k, v) => storage.set(k, JSON.stringify(v)),
    removeStorageSync: (k) => storage.delete(k),
    request(o) {
      const op = ((o.data && o.data.query) || '').match(/(?:query|mutation)\s+(\w+)/)
      const entry = { url: o.url, operation: op ? op[1] : '?', variables: o.data && o.data.variables, at: Date.now() }
      state.requests.push(entry)
      const failure = state.failRequests(entry)
      if (failure) {
        entry.failed = failure
        setTimeout(() => o.fail && o.fail({ errMsg: failure }), 0)
        return { abort() {} }
      }
      const shed = state.shedRequests(entry)
      if (shed) {
        Object.assign(entry, { status: 503, codes: ['OVERLOADED'] })
        const error = { message: '访问人数较多，请稍等几秒后重试', extensions: { code: 'OVERLOADED', retryAfter: shed, requestId: 'shed' } }
        setTimeout(() => ok(o, { statusCode: 503, header: { 'Retry-After': String(shed) }, data: { data: null, errors: [error] } }), 0)
        return { abort() {} }
      }
      const delay = state.delayReply(entry)
      state.inFlight += 1
      const settle = () => (state.inFlight -= 1)
      httpJson(o.method || 'GET', o.url, o.data, o.header).then(
        (res) => setTimeout(() => {
          entry.status = res.statusCode
          entry.codes = ((res.data && res.data.errors) || []).map((e) => e.extensions && e.extensions.code)
          settle()
          ok(o, res)
        }, delay),
        (err) => (settle(), o.fail && o.fail({ errMsg: `request:fail ${err.message}` })),
      )
      return { abort() {} }
    },
    uploadFile(o) {
      // What the phone does with a temporary path: reads the file and posts it as multipart.
      const bytes = state.tempFiles.get(o.filePath)
      if (!bytes) return o.fail && o.fail({ errMsg: `uploadFile:fail file not found ${o.filePath}` })
      const form = multipart(o.name, o.filePath.split('/').pop(), bytes)
      state.requests.push({ url: o.url, operation: 'uploadFile' })
      httpRaw('POST', o.url, form.body, { ...o.header, 'content-type': form.type }).then(
        (res) => ok(o, { ...res, errMsg: 'uploadFile:ok' }),
        (err) => o.fail && o.fail({ errMsg: `uploadFile:fail ${err.message}` }),
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
    showModal: (o) => (state.modals.push({ title: o.title, content: o.content, confirmText: o.confirmText }), ok(o, { confirm: state.modalConfirm, cancel: !state.modalConfirm })),
    setClipboardData: (o) => (state.clipboard.push(o.data), ok(o, {})),
    pageScrollTo: (o) => (state.scrolls.push(o.selector), ok(o, {})),
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
    getSetting: (o) => ok(o, { authSetting: {}, ...(o.withSubscriptions ? { subscriptionsSetting: state.subscriptionsSetting } : {}) }),
    openSetting: (o) => ok(o, { authSetting: {}, subscriptionsSetting: state.subscriptionsSetting }),
    downloadFile(o) {
      // As on a phone: the file is fetched (with the page's headers) into a temporary path,
      // whatever the status (an error answer is saved too); progress is reported on the task.
      const entry = { url: o.url, operation: 'downloadFile', header: o.header }
      state.requests.push(entry)
      const listeners = []
      const failure = state.failRequests(entry)
      if (failure) setTimeout(() => o.fail && o.fail({ errMsg: failure.replace(/^request/, 'downloadFile') }), 0)
      else httpRaw('GET', o.url, null, o.header).then(
        (res) => {
          entry.status = res.statusCode
          const tempFilePath = `wxfile://tmp/download-${state.tempFiles.size}`
          state.tempFiles.set(tempFilePath, res.body)
          listeners.forEach((l) => l({ progress: 100, totalBytesWritten: res.body.length, totalBytesExpectedToWrite: res.body.length }))
          ok(o, { statusCode: res.statusCode, tempFilePath, errMsg: 'downloadFile:ok' })
        },
        (err) => o.fail && o.fail({ errMsg: `downloadFile:fail ${err.message}` }),
      )
      return { abort() {}, onProgressUpdate: (l) => listeners.push(l) }
    },
    openDocument: (o) => (state.opened.push({ how: 'openDocument', path: o.filePath, fileType: o.fileType, bytes: state.tempFiles.get(o.filePath) }), ok(o, {})),
    previewImage: (o) => (state.opened.push({ how: 'previewImage', path: o.urls[0], bytes: state.tempFiles.get(o.urls[0]) }), ok(o, {})),
    env: { USER_DATA_PATH: 'wxfile://usr' },
    getFileSystemManager: () => ({
      readFileSync(path, encoding) {
        const bytes = state.tempFiles.get(path)
        if (!bytes) throw new Error(`readFileSync:fail no such file ${path}`)
        return encoding ? bytes.toString(encoding === 'utf-8' ? 'utf8' : encoding) : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)
      },
      writeFileSync(path, data) {
        state.tempFiles.set(path, typeof data === 'string' ? Buffer.from(data) : Buffer.from(new Uint8Array(data)))
      },
    }),
    showLoading: () => undefined,
    setTabBarBadge: (o) => (state.badge = o.text, ok(o, {})),
    removeTabBarBadge: (o) => (state.badge = '', ok(o, {})),
    hideLoading: () => undefined,
    cloud: {
      init: (o) => (state.cloudInit = o || {}),
      callContainer: (o) => callContainer(o),
    },
    stopPullDownRefresh: () => undefined,
    setNavigationBarTitle: () => undefined,
  }
  // WeChat Cloud Run's gateway, stood in: it answers only our environment and service, drops
  // X-WX-SERVICE, and adds the headers the platform vouches with (X-WX-SOURCE, X-WX-APPID and the
  // user's X-WX-OPENID, asked of the WeChat simulator for the current user), then forwards.
  function callContainer(o) {
    const header = { ...(o.header || {}) }
    const service = header['X-WX-SERVICE']
    delete header['X-WX-SERVICE']
    const isQuery = o.data && typeof o.data === 'object' && !(o.data instanceof ArrayBuffer)
    const op = ((isQuery && o.data.query) || '').match(/(?:query|mutation)\s+(\w+)/)
    const entry = { via: 'container', path: o.path, operation: op ? op[1] : o.path, variables: isQuery ? o.data.variables : undefined, header: o.header }
    state.requests.push(entry)
    const target = state.container || {}
    const fail = (errMsg) => setTimeout(() => o.fail && o.fail({ errMsg }), 0)
    if (!state.cloudInit) return fail('cloud.callContainer:fail Cloud API isn\'t enabled, please call wx.cloud.init first')
    if (!o.config || o.config.env !== target.env || service !== target.service) return fail('cloud.callContainer:fail -501000 environment or service not found')
    const failure = state.failRequests(entry)
    if (failure) return fail(failure.replace(/^request/, 'cloud.callContainer'))
    httpJson('POST', `${info.wechat}/__sim/wx-login`, { user: state.user })
      .then(({ data }) => {
        const headers = { ...header, 'x-wx-source': 'wx_client', 'x-wx-appid': 'wx-demo-appid', 'x-wx-openid': data.openid }
        const body = o.data instanceof ArrayBuffer ? Buffer.from(new Uint8Array(o.data)) : o.data === undefined ? null : Buffer.from(JSON.stringify(o.data))
        if (body && !headers['content-type']) headers['content-type'] = 'application/json'
        return httpRaw(o.method || 'GET', info.base + o.path, body, headers)
      })
      .then(
        (res) => {
          entry.status = res.statusCode
          let data = res.body.buffer.slice(res.body.byteOffset, res.body.byteOffset + res.body.length)
          if (o.responseType !== 'arraybuffer') {
            data = res.data
            if ((o.dataType || 'json') === 'json') {
              try {
                data = JSON.parse(res.data)
              } catch (_e) {
                // not JSON: the text, as the SDK hands it over
              }
            }
            entry.codes = ((data && data.errors) || []).map((e) => e.extensions && e.extensions.code)
          }
          ok(o, { statusCode: res.statusCode, data, header: {}, callID: 'stand-in', errMsg: 'cloud.callContainer:ok' })
        },
        (err) => o.fail && o.fail({ errMsg: `cloud.callContainer:fail ${err.message}` }),
      )
  }
  Object.assign(global.wx, shim)
  // The client reads the BFF address from this developer override (see src/config.ts).
  storage.set('bff.baseUrl', JSON.stringify(info.base))
  return state
}

/** Loads a compiled page, renders it, runs onLoad and waits for its requests to settle. */
const loaded = {}
// WeChat's own WXML compiler (wcc, from miniprogram-compiler) renders the pages, as on a
// phone; MP_COMPILER=simulate switches to miniprogram-simulate's JavaScript imitation.
const COMPILER = process.env.MP_COMPILER || 'official'

// Custom components register once, as WeChat runs a module once (jest keeps modules
// cached, so a second simulate.load of the same component would never define it again).
const components = {}

function componentIds(simulate, dist) {
  const dir = path.join(dist, 'components')
  if (!fs.existsSync(dir)) return {}
  for (const name of fs.readdirSync(dir)) {
    if (!components[name]) components[name] = simulate.load(path.join(dir, name, name), name, { compiler: COMPILER, rootPath: dist })
  }
  return components
}

async function openPage(simulate, name, query = {}) {
  const dist = path.resolve(__dirname, '../../dist')
  // A page's definition is registered once (its module runs once); each open renders anew.
  const options = { compiler: COMPILER, rootPath: dist, usingComponents: { ...componentIds(simulate, dist) } }
  // 'home' is pages/home/home; a path with a slash names a subpackage's page (packages/account/delete/delete).
  const file = name.includes('/') ? path.join(dist, name) : path.join(dist, 'pages', name, name)
  const id = loaded[name] || (loaded[name] = simulate.load(file, options))
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

/** The demo BFF's change watcher has finished a cycle that began after this call: what a test
 * needs before changing an order it has just followed (the watcher first records the order as
 * it is). Read from /metrics (loopback clients may read it): the last cycle's end time must move
 * twice, since the first move may end a cycle that began before the call. */
async function watcherCycled(timeoutMs = 60000) {
  const url = bffInfo().graphql.replace(/\/graphql.*$/, '/metrics')
  const lastCycle = async () => {
    const res = await httpJson('GET', url)
    const m = String(res.data).match(/^bff_watcher_last_cycle_timestamp_seconds(?:\{[^}]*\})? (\S+)$/m)
    if (!m) throw new Error(`no watcher cycle metric at ${url} (HTTP ${res.statusCode})`)
    return Number(m[1])
  }
  const start = Date.now()
  let seen = await lastCycle()
  for (let moves = 0; moves < 2; ) {
    if (Date.now() - start > timeoutMs) throw new Error('the change watcher did not finish a cycle')
    await new Promise((r) => setTimeout(r, 100))
    const now = await lastCycle()
    if (now !== seen) (moves += 1), (seen = now)
  }
}

function queryOf(url) {
  const q = {}
  const s = url.split('?')[1] || ''
  for (const pair of s.split('&')) if (pair) q[decodeURIComponent(pair.split('=')[0])] = decodeURIComponent(pair.split('=')[1] || '')
  return q
}

module.exports = { installWx, openPage, until, queryOf, httpJson, bffInfo, watcherCycled, COMPILER }
