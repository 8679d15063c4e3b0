// Small helpers shared by pages: where to send a user without a session, toasts.

/** To the login (or binding) page; `next` is where to land after it (a notification's order page). */
export function toLogin(mode: 'login' | 'bind' = 'login', next = ''): void {
  const then = next.indexOf('/pages/') === 0 ? `&next=${encodeURIComponent(next)}` : ''
  // reLaunch: the login page must not sit above a tab page the user can go back to.
  wx.reLaunch({ url: `/pages/login/login?mode=${mode}${then}` })
}

/** Where a page opened with `query` can be found again (for toLogin's `next`). */
export function here(route: string, query: Record<string, string | undefined>): string {
  const q = Object.keys(query).filter((k) => query[k]).map((k) => `${k}=${encodeURIComponent(String(query[k]))}`).join('&')
  return q ? `${route}?${q}` : route
}

export function toast(title: string): void {
  wx.showToast({ title, icon: 'none' })
}

// <switch color> takes a colour value, not a CSS variable: pick the theme's primary
// (app.wxss's --primary) when the page is shown.
const SWITCH_COLORS: Record<string, string> = { light: '#1890FF', dark: '#3C9AE8' }

export function switchColor(): string {
  let theme = 'light'
  try {
    const w = wx as unknown as { getAppBaseInfo?: () => { theme?: string } }
    theme = (w.getAppBaseInfo ? w.getAppBaseInfo().theme : wx.getSystemInfoSync().theme) || 'light'
  } catch (_e) {
    // no theme information: light
  }
  return SWITCH_COLORS[theme] || SWITCH_COLORS.light
}
