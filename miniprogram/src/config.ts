// Where the BFF lives and which templates to ask for: injected at build time (build-config).
// Only the developer version may be pointed elsewhere, with the storage key `bff.baseUrl`
// (a phone previewing against a laptop's `bff demo`, and the tests); trial and release
// versions always use the built-in https address.
import { BUILD } from './build-config'

export const DEV_OVERRIDE_KEY = 'bff.baseUrl'

// develop | trial | release
export function envVersion(): string {
  try {
    return wx.getAccountInfoSync().miniProgram.envVersion
  } catch (_e) {
    return 'develop' // Older base libraries lack getAccountInfoSync: treat as development.
  }
}

export function baseUrl(): string {
  const env = envVersion()
  if (env === 'develop') {
    const override = wx.getStorageSync(DEV_OVERRIDE_KEY)
    if (typeof override === 'string' && override) return override
  }
  return BUILD.bffUrl
}

// At most three per wx.requestSubscribeMessage call, so the order page asks for these three.
export const ORDER_TEMPLATES = BUILD.templates

export const PAGE_SIZE = 10
