// Small helpers shared by pages: query strings, navigation with a fallback.

export function qs(params: Record<string, string | number>): string {
  return Object.keys(params)
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(String(params[k]))}`)
    .join('&')
}

export function toLogin(mode: 'login' | 'bind' = 'login'): void {
  // reLaunch: the login page must not sit above a tab page the user can go back to.
  wx.reLaunch({ url: `/pages/login/login?mode=${mode}` })
}

export function toast(title: string): void {
  wx.showToast({ title, icon: 'none' })
}
