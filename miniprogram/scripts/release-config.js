// The values a release build injects: the mini program's appid, the BFF's https address and
// the subscription template ids from the WeChat console. One file (release.config.json, not
// committed; see release.config.example.json) or the environment (MP_APPID, MP_BFF_URL,
// MP_TPL_ORDER_STATUS, MP_TPL_PRODUCTION_DONE, MP_TPL_ORDER_SHIPPED), the environment winning.
// A release with a placeholder left in is refused, with every problem named.
const fs = require('fs')
const path = require('path')

const ROOT = path.resolve(__dirname, '..')
const TEMPLATE_KINDS = ['ORDER_STATUS', 'PRODUCTION_DONE', 'ORDER_SHIPPED']

// What development uses (src/build-config.ts says the same); never acceptable in a release.
const DEVELOPMENT = {
  appid: 'touristappid',
  bffUrl: 'http://127.0.0.1:8000',
  templates: { ORDER_STATUS: 'TPL_ORDER_STATUS', PRODUCTION_DONE: 'TPL_PRODUCTION_DONE', ORDER_SHIPPED: 'TPL_ORDER_SHIPPED' },
}

function load(env = process.env) {
  const file = env.MP_RELEASE_CONFIG || path.join(ROOT, 'release.config.json')
  const fromFile = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {}
  const templates = { ...(fromFile.templates || {}) }
  for (const kind of TEMPLATE_KINDS) if (env[`MP_TPL_${kind}`]) templates[kind] = env[`MP_TPL_${kind}`]
  return {
    appid: env.MP_APPID || fromFile.appid || '',
    bffUrl: (env.MP_BFF_URL || fromFile.bffUrl || '').replace(/\/+$/, ''),
    templates,
  }
}

const PLACEHOLDER_HOST = /(^|\.)(example\.(com|cn|org|net)|localhost|test|invalid|local)$|^\d+\.\d+\.\d+\.\d+$/

/** Every reason `config` cannot be released (empty when it can). */
function problems(config) {
  const found = []
  if (!/^wx[0-9a-f]{16}$/.test(config.appid)) found.push(`appid "${config.appid}" is not a real mini program appid (wx + 16 hex digits)`)
  let url = null
  try {
    url = new URL(config.bffUrl)
  } catch (_e) {
    found.push(`bffUrl "${config.bffUrl}" is not an address`)
  }
  if (url) {
    if (url.protocol !== 'https:') found.push(`bffUrl "${config.bffUrl}" must be https (WeChat allows only https request domains)`)
    if (PLACEHOLDER_HOST.test(url.hostname)) found.push(`bffUrl "${config.bffUrl}" names a placeholder or local host`)
    if (url.pathname !== '/' || url.search || url.port) found.push(`bffUrl "${config.bffUrl}" must be a bare https origin (the legal domain configured in the console)`)
  }
  for (const kind of TEMPLATE_KINDS) {
    const id = config.templates[kind] || ''
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(id) || /^TPL_/.test(id)) found.push(`template ${kind} "${id}" is not a template id from the WeChat console`)
  }
  return found
}

module.exports = { DEVELOPMENT, TEMPLATE_KINDS, load, problems }
