// Where the BFF lives, how requests reach it and which templates to ask for: injected at build
// time (build-config). Only the developer version may be pointed elsewhere, with the storage
// keys `bff.baseUrl` and `bff.container` (a phone previewing against a laptop's `bff demo`,
// and the tests); trial and release versions always use the built-in values.
import { BUILD } from './build-config'

export const DEV_OVERRIDE_KEY = 'bff.baseUrl'
/** Developer version only: {env, service} switches the transport to wx.cloud.callContainer. */
export const DEV_CONTAINER_KEY = 'bff.container'

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

export interface ContainerTarget {
  env: string
  service: string
}

/** WeChat Cloud Run's environment and service when requests go through callContainer, else null. */
export function container(): ContainerTarget | null {
  if (envVersion() === 'develop') {
    const override = wx.getStorageSync(DEV_CONTAINER_KEY) as ContainerTarget | ''
    if (override && override.service) return override
  }
  return BUILD.transport === 'container' ? BUILD.container : null
}

// At most three per wx.requestSubscribeMessage call, so the order page asks for these three.
export const ORDER_TEMPLATES = BUILD.templates

export const PAGE_SIZE = 10
