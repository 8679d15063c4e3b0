// What WeChat knows of the user's subscription messages (wx.getSetting withSubscriptions).

/** Templates the user switched off in WeChat ("reject"/"ban", or every subscription off). */
export function switchedOff(setting: WechatMiniprogram.SubscriptionsSetting | undefined, ids: string[]): string[] {
  if (!setting) return []
  if (setting.mainSwitch === false) return ids
  const items = (setting.itemSettings || {}) as Record<string, string>
  return ids.filter((id) => items[id] === 'reject' || items[id] === 'ban')
}

/** What WeChat knows of the user's subscriptions (a template switched off for good is never offered again). */
export function subscriptionsSetting(): Promise<WechatMiniprogram.SubscriptionsSetting | undefined> {
  return new Promise((resolve) => {
    wx.getSetting({
      withSubscriptions: true,
      success: (r) => resolve(r.subscriptionsSetting),
      fail: () => resolve(undefined),
    })
  })
}

