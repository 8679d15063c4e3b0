// The last good answer of each list and order page, kept on the device for the signed-in user:
// shown at once while the page loads and whenever a request fails, with its age (上次更新 …),
// so a weak network never blanks a screen. Bounded (the MAX newest; WeChat allows 10 MB in
// all), forgotten on logout, unbinding, account deletion, or another user signing in.
import { currentUser } from './user'

const PREFIX = 'keep:'
const INDEX = 'keep:index' // keys in use, oldest first
const MAX = 20

export interface Kept<T> {
  at: number // ms since the epoch, when the BFF answered it
  data: T
}

function index(): string[] {
  const v = wx.getStorageSync(INDEX)
  return Array.isArray(v) ? (v as string[]) : []
}

function keyOf(name: string): string {
  const user = currentUser()
  return user && name ? `${PREFIX}${user}:${name}` : ''
}

export function keep<T>(name: string, data: T, at = Date.now()): void {
  const key = keyOf(name)
  if (!key) return
  try {
    wx.setStorageSync(key, { at, data })
    const keys = index().filter((k) => k !== key)
    keys.push(key)
    while (keys.length > MAX) wx.removeStorageSync(keys.shift() as string)
    wx.setStorageSync(INDEX, keys)
  } catch (_e) {
    // Storage full or refused: the page works on, only without a copy for next time.
  }
}

export function kept<T>(name: string): Kept<T> | null {
  const key = keyOf(name)
  if (!key) return null
  const v = wx.getStorageSync(key) as Kept<T> | ''
  return v && typeof v === 'object' && typeof v.at === 'number' ? v : null
}

export function forgetAll(): void {
  index().forEach((k) => wx.removeStorageSync(k))
  wx.removeStorageSync(INDEX)
}
