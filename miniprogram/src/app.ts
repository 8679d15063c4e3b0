// The app itself holds no state: pages read the session from storage (lib/session),
// so each page can be loaded on its own (tests, deep links from notifications).
App({
  onLaunch() {
    // Since 2023 a mini program must show its privacy agreement before using user data;
    // the login page renders it, and this hook covers APIs called from anywhere else.
    const w = wx as unknown as { onNeedPrivacyAuthorization?: (cb: (resolve: (r: { event: string }) => void) => void) => void }
    if (w.onNeedPrivacyAuthorization) {
      w.onNeedPrivacyAuthorization(() => wx.reLaunch({ url: '/pages/login/login?mode=privacy' }))
    }
  },
})
