// The BFF session. Over https: a bearer token in storage, obtained by wx.login() → wxLogin
// (WeChat's session_key never reaches the client; the token is the BFF's own). Over
// callContainer: WeChat Cloud Run vouches for the user on every request, so there is no token;
// "login" asks the BFF who that is (Me). Either way the openid is remembered (lib/user), and a
// different user signing in on the device drops the previous one's kept data.
import { ME, WX_LOGIN } from '../graphql/auth'
import { container } from '../config'
import { GqlError } from './errors'
import { firstError, post } from './http'
import { forgetAll } from './keep'
import { currentUser, setUser } from './user'

const TOKEN_KEY = 'bff.token'

export interface LoginResult {
  token: string
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

/** Whether pages may ask the BFF at all, or must send the user to the login page first. */
export function hasSession(): boolean {
  return container() ? Boolean(currentUser()) : Boolean(getToken())
}

/** Signed out on this device (logout, unbinding, account deleted): nothing of the user stays. */
export function signOut(): void {
  forgetAll()
  setToken('')
  setUser('')
}

function wxLoginCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (r) => (r.code ? resolve(r.code) : reject(new GqlError('WX_LOGIN_FAILED', ''))),
      fail: () => reject(new GqlError('WX_LOGIN_FAILED', '')),
    })
  })
}

async function signIn(): Promise<LoginResult> {
  if (container()) {
    const body = await post<{ me: LoginResult['user'] }>(ME, {})
    const err = firstError(body)
    if (err || !body.data) throw err || new GqlError('WX_LOGIN_FAILED', '')
    return { token: '', user: body.data.me }
  }
  const code = await wxLoginCode()
  const body = await post<{ wxLogin: LoginResult }>(WX_LOGIN, { code })
  const err = firstError(body)
  if (err || !body.data) throw err || new GqlError('WX_LOGIN_FAILED', '')
  setToken(body.data.wxLogin.token)
  return body.data.wxLogin
}

// Concurrent requests that all hit UNAUTHENTICATED share one login: a code is single-use.
let inFlight: Promise<LoginResult> | null = null

export function login(): Promise<LoginResult> {
  if (!inFlight) {
    inFlight = (async () => {
      const result = await signIn()
      if (currentUser() && currentUser() !== result.user.openid) forgetAll()
      setUser(result.user.openid)
      return result
    })()
    inFlight.then(
      () => (inFlight = null),
      () => (inFlight = null),
    )
  }
  return inFlight
}
