// The values a release build injects: the mini program's appid, how it reaches the BFF (its
// https address, or WeChat Cloud Run's environment and service for wx.cloud.callContainer) and
// the subscription template ids from the WeChat console. One file (release.config.json, not
// committed; see release.config.example.json) or the environment (MP_APPID, MP_TRANSPORT,
// MP_BFF_URL, MP_CLOUD_ENV, MP_CLOUD_SERVICE, MP_TPL_ORDER_STATUS, MP_TPL_PRODUCTION_DONE,
// MP_TPL_ORDER_SHIPPED), the environment winning.
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
  const container = fromFile.container || {}
  return {
    appid: env.MP_APPID || fromFile.appid || '',
    transport: env.MP_TRANSPORT || fromFile.transport || 'https',
    bffUrl: (env.MP_BFF_URL || fromFile.bffUrl || '').replace(/\/+$/, ''),
    container: { env: env.MP_CLOUD_ENV || container.env || '', service: env.MP_CLOUD_SERVICE || container.service || '' },
    templates,
  }
}

const PLACEHOLDER_HOST = /(^|\.)(example\.(com|cn|org|net)|localhost|test|invalid|local)$|^\d+\.\d+\.\d+\.\d+$/

/** Every reason `config` cannot be released (empty when it can). */
function problems(config) {
  const found = []
  if (!/^wx[0-9a-f]{16}$/.test(config.appid)) found.push(`appid "${config.appid}" is not a real mini program appid (wx + 16 hex digits)`)
  if (config.transport !== 'https' && config.transport !== 'container') found.push(`transport "${config.transport}" is neither https nor container`)
  const viaContainer = config.transport === 'container'
  if (viaContainer) {
    // WeChat Cloud Run: the environment id (云托管 → 环境) and the service name (服务列表).
    if (!/^[a-z0-9][a-z0-9-]{2,63}$/.test(config.container.env)) found.push(`container.env "${config.container.env}" is not a WeChat Cloud Run environment id`)
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(config.container.service)) found.push(`container.service "${config.container.service}" is not a service name`)
  }
  let url = null
  try {
    // Over callContainer no domain is needed for requests; a bffUrl given is still checked.
    if (!viaContainer || config.bffUrl) url = new URL(config.bffUrl)
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
