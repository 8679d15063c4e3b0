// Finds and starts a real `bff demo` (BFF + ERP and WeChat simulators) on free ports,
// and reads the addresses and the demo token it prints. Shared by jest and the screenshots.
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn } = require('child_process')

const REPO = path.resolve(__dirname, '../../..')
// What a server-to-server caller sends (X-Service-Key) to queue a message in the tests.
const SERVICE_KEY = 'mp-tests-service-key-0123456789abcdef'

function findBff() {
  const candidates = [path.join(REPO, '.venv/bin/bff')]
  for (const dir of (process.env.PATH || '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'bff'))
  candidates.push('/work/venv/bin/bff')
  const found = candidates.find((p) => fs.existsSync(p))
  if (!found) throw new Error('bff not found: run `make install` first')
  return found
}

function startDemo({ timeoutMs = 60000 } = {}) {
  // Its own working directory: the demo's SQLite file must not collide with a developer's.
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-bff-'))
  const child = spawn(findBff(), ['demo', '--port', '0', '--erp-port', '0', '--wechat-port', '0', '--tracking-port', '0'], {
    cwd,
    // A fast change watcher, so an order change becomes a notification within the test; the
    // platform's headers trusted (WeChat Cloud Run's callContainer, stood in by the wx shim).
    // Every test file binds fresh users from the one loopback address: the per-address bind
    // limit (20 per 10 minutes in production) would refuse the later ones.
    env: { ...process.env, PYTHONUNBUFFERED: '1', BFF_WATCH_INTERVAL_S: '1', BFF_TRUST_WX_HEADERS: '1', BFF_BIND_MAX_ATTEMPTS_PER_IP: '500', BFF_SERVICE_KEY: SERVICE_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const info = { pid: child.pid, cwd }
    const timer = setTimeout(() => {
      child.kill('SIGTERM')
      reject(new Error(`bff demo did not start in time:\n${out}\n${err.slice(-2000)}`))
    }, timeoutMs)
    child.stderr.on('data', (d) => (err += d))
    child.stdout.on('data', (d) => {
      out += d
      const grab = (re) => (out.match(re) || [])[1]
      info.graphql = grab(/GraphiQL\s+(http:\/\/\S+)/)
      info.wechat = grab(/WeChat simulator\s+(http:\/\/\S+)/)
      info.erp = grab(/ERP simulator\s+(http:\/\/\S+)/)
      info.tracking = grab(/Tracking sim\s+(http:\/\/\S+)/)
      info.token = grab(/DEMO_TOKEN=(\S+)/)
      if (info.graphql && info.wechat && info.erp && info.tracking && info.token) {
        clearTimeout(timer)
        info.base = info.graphql.replace(/\/graphql$/, '')
        resolve({ child, info })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`bff demo exited (${code}):\n${out}\n${err.slice(-2000)}`))
    })
  })
}

module.exports = { startDemo, findBff, SERVICE_KEY }
