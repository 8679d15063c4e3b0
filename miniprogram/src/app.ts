// The app itself holds no state: pages read the session from storage (lib/session),
// so each page can be loaded on its own (tests, deep links from notifications).
import { container } from './config'
import { needAuthorization, PrivacyEvent } from './lib/privacy'

type PrivacyResolve = (answer: { event: PrivacyEvent; buttonId?: string }) => void

App({
  onLaunch() {
    // Since 2023 WeChat asks before an API touches user data; the page's privacy sheet
    // answers in place (lib/privacy), so the user stays where they were.
    const w = wx as unknown as { onNeedPrivacyAuthorization?: (cb: (resolve: PrivacyResolve) => void) => void }
    if (w.onNeedPrivacyAuthorization) w.onNeedPrivacyAuthorization((resolve) => needAuthorization(resolve))
    // WeChat Cloud Run: callContainer needs wx.cloud initialised once (each call names its env).
    const target = container()
    if (target && wx.cloud) wx.cloud.init({ env: target.env })
    this.watchForUpdates()
  },
  /** A new version downloaded while this one runs: offer to restart into it. */
  watchForUpdates() {
    if (!wx.getUpdateManager) return
    const updates = wx.getUpdateManager()
    updates.onUpdateReady(() => {
      wx.showModal({
        title: '发现新版本',
        content: '新版本已准备好，重启小程序即可使用。',
        confirmText: '重启',
        success: (r) => {
          if (r.confirm) updates.applyUpdate()
        },
      })
    })
  },
  onError(message: string) {
    // Script errors reach WeChat's real-time log (小程序后台 → 实时日志), without user data.
    const logger = wx.getRealtimeLogManager ? wx.getRealtimeLogManager() : null
    if (logger) logger.error('app error', String(message).slice(0, 500))
    else console.error(message)
  },
  onPageNotFound() {
    // An old link (a notification, a shared card) to a page that no longer exists: go home.
    wx.switchTab({ url: '/pages/home/home' })
  },
})
