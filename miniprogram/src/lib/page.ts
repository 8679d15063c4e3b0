// Small helpers shared by pages: where to send a user without a session, toasts.

export function toLogin(mode: 'login' | 'bind' = 'login'): void {
  // reLaunch: the login page must not sit above a tab page the user can go back to.
  wx.reLaunch({ url: `/pages/login/login?mode=${mode}` })
}

export function toast(title: string): void {
  wx.showToast({ title, icon: 'none' })
}
