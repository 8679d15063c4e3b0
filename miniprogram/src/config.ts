// Where the BFF lives, per WeChat environment. Release and trial builds talk to the
// production host only; the developer build may be pointed at a local `bff demo`
// (set storage key `bff.baseUrl`), which is also how the tests reach their BFF.
const BASE_URLS: Record<string, string> = {
  release: 'https://bff.huicai.example.com',
  trial: 'https://bff.huicai.example.com',
  develop: 'http://127.0.0.1:8000',
}

export const DEV_OVERRIDE_KEY = 'bff.baseUrl'

export function baseUrl(): string {
  let env = 'develop'
  try {
    env = wx.getAccountInfoSync().miniProgram.envVersion
  } catch (_e) {
    // Older base libraries lack getAccountInfoSync: treat as development.
  }
  if (env === 'develop') {
    const override = wx.getStorageSync(DEV_OVERRIDE_KEY)
    if (typeof override === 'string' && override) return override
  }
  return BASE_URLS[env] || BASE_URLS.release
}

// Subscription template ids, as configured in the WeChat console (the BFF's BFF_TPL_*).
// At most three per wx.requestSubscribeMessage call, so the order page asks for these three.
export const ORDER_TEMPLATES = {
  ORDER_STATUS: 'TPL_ORDER_STATUS',
  PRODUCTION_DONE: 'TPL_PRODUCTION_DONE',
  ORDER_SHIPPED: 'TPL_ORDER_SHIPPED',
}

export const PAGE_SIZE = 10
