// The unread count on the 消息 tab (tab index 1 in app.json), from any answer that carries it.
const MESSAGES_TAB = 1

export function showUnread(unread: number): void {
  const quiet = { fail: () => undefined } // not on a tab page yet: the next answer sets it
  if (unread > 0) wx.setTabBarBadge({ index: MESSAGES_TAB, text: unread > 99 ? '99+' : String(unread), ...quiet })
  else wx.removeTabBarBadge({ index: MESSAGES_TAB, ...quiet })
}
