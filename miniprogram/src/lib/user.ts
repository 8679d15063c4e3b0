// Who is signed in on this device (the openid the BFF answered at login): the device's kept
// data belongs to this user, and in container mode it is the sign of a session.
const USER_KEY = 'bff.user'

export function currentUser(): string {
  const u = wx.getStorageSync(USER_KEY)
  return typeof u === 'string' ? u : ''
}

export function setUser(openid: string): void {
  if (openid) wx.setStorageSync(USER_KEY, openid)
  else wx.removeStorageSync(USER_KEY)
}
