// The BFF session: its bearer token in storage, obtained by wx.login() → wxLogin.
// WeChat's session_key never reaches the client; the token is the BFF's own.
import { WX_LOGIN } from '../graphql/auth'
import { GqlError } from './errors'
import { firstError, post } from './http'

const TOKEN_KEY = 'bff.token'

export interface LoginResult {
  token: string
  expiresAt: string
  user: { openid: string; bound: boolean; permissions: string[] }
}

export function getToken(): string {
  const t = wx.getStorageSync(TOKEN_KEY)
  return typeof t === 'string' ? t : ''
}

export function setToken(token: string): void {
  if (token) wx.setStorageSync(TOKEN_KEY, token)
  else wx.removeStorageSync(TOKEN_KEY)
}

function wxLoginCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (r) => (r.code ? resolve(r.code) : reject(new GqlError('WX_LOGIN_FAILED', ''))),
      fail: () => reject(new GqlError('WX_LOGIN_FAILED', '')),
    })
  })
}

// Concurrent requests that all hit UNAUTHENTICATED share one login: a code is single-use.
let inFlight: Promise<LoginResult> | null = null

export function login(): Promise<LoginResult> {
  if (!inFlight) {
    inFlight = (async () => {
      const code = await wxLoginCode()
      const body = await post<{ wxLogin: LoginResult }>(WX_LOGIN, { code })
      const err = firstError(body)
      if (err || !body.data) throw err || new GqlError('WX_LOGIN_FAILED', '')
      setToken(body.data.wxLogin.token)
      return body.data.wxLogin
    })()
    inFlight.then(
      () => (inFlight = null),
      () => (inFlight = null),
    )
  }
  return inFlight
}
