// Message centre: the user's notifications (each names its order; read or unread, the
// outbox's states stay with the operators), and the settings: which orders (the ones
// subscribed on their page, or all), which kinds, grants left per kind with 再次订阅, a
// template switched off for good in WeChat (wx.getSetting), a do-not-disturb window.
import { ORDER_TEMPLATES, PAGE_SIZE } from '../../config'
import { MARK_MESSAGE_READ, MESSAGES, NOTIFICATION_SETTINGS, RECORD_SUBSCRIPTIONS, UPDATE_NOTIFICATION_SETTINGS } from '../../graphql/messages'
import { showUnread } from '../../lib/badge'
import { errorState } from '../../lib/errors'
import { dateTime } from '../../lib/format'
import { request } from '../../lib/gql'
import { appendPaths, Latest } from '../../lib/latest'
import { switchColor, toast, toLogin } from '../../lib/page'
import { subscriptionsSetting, switchedOff } from '../../lib/subscriptions'
import { hasSession } from '../../lib/session'

interface Message { id: string; kind: string | null; title: string; summary: string | null; orderId: string | null; page: string | null; createdAt: string | null; read: boolean }
interface Settings { enabledKinds: string[]; dndStart: string | null; dndEnd: string | null; followAll: boolean; timezone: string }
interface Grant { templateId: string; kind: string | null; remaining: number }

const KINDS: { value: keyof typeof ORDER_TEMPLATES; label: string }[] = [
  { value: 'ORDER_STATUS', label: '订单状态变化' },
  { value: 'PRODUCTION_DONE', label: '生产完成' },
  { value: 'ORDER_SHIPPED', label: '发货通知（含运单号）' },
]

function row(m: Message) {
  return {
    id: m.id, title: m.title, summary: m.summary || '', orderId: m.orderId || '', page: m.page || '',
    time: dateTime(m.createdAt), read: m.read,
  }
}

type Row = ReturnType<typeof row>

// One ticket counter per page instance: a list reply that is no longer the newest is dropped.
const tickets = new WeakMap<object, Latest>()
function latest(page: object): Latest {
  let t = tickets.get(page)
  if (!t) tickets.set(page, (t = new Latest()))
  return t
}

Component({
  data: {
    tab: 'list' as 'list' | 'settings',
    loading: true,
    error: null as null | { message: string; actionText: string },
    items: [] as Row[],
    unread: 0,
    total: 0,
    page: 0,
    settingsLoading: true,
    kinds: KINDS.map((k) => ({ ...k, templateId: ORDER_TEMPLATES[k.value], on: true, remaining: 0, off: false })),
    followAll: false,
    resubscribing: '',
    dnd: false,
    dndStart: '22:00',
    dndEnd: '08:00',
    saving: false,
    switchColor: '#1890FF',
  },
  methods: {
    onLoad() {
      if (!hasSession()) return toLogin('login')
      this.setData({ switchColor: switchColor() })
      return this.load()
    },
    onShow() {
      if (this.data.switchColor !== switchColor()) this.setData({ switchColor: switchColor() })
      // Back from an order opened here: refresh the read marks, quietly.
      if (this.data.page > 0) this.load(true)
    },
    async onPullDownRefresh() {
      await (this.data.tab === 'list' ? this.load(true) : this.loadSettings())
      wx.stopPullDownRefresh()
    },
    onReachBottom() {
      if (this.data.tab === 'list' && this.data.items.length < this.data.total) return this.load(false, this.data.page + 1)
      return undefined
    },
    async load(quiet = false, page = 1) {
      const ticket = latest(this).next()
      if (!quiet && page === 1) this.setData({ loading: true, error: null })
      try {
        const { data } = await request<{ messages: { total: number; unread: number; items: Message[] } }>(MESSAGES, { page, pageSize: PAGE_SIZE })
        if (!latest(this).isCurrent(ticket)) return undefined
        const rows = data.messages.items.map(row)
        this.setData({
          // A next page is appended by path: only its rows travel to the view.
          ...(page === 1 ? { items: rows } : appendPaths('items', this.data.items.length, rows)),
          loading: false,
          unread: data.messages.unread,
          total: data.messages.total,
          page,
        })
        showUnread(data.messages.unread)
      } catch (e) {
        if (!latest(this).isCurrent(ticket)) return undefined
        const s = errorState(e)
        if (s.code === 'NOT_BOUND') return toLogin('bind')
        // The messages on screen stay when a refresh fails; only an empty page shows the error.
        if (this.data.items.length) {
          this.setData({ loading: false })
          if (!quiet) toast(s.message)
        } else if (!quiet) this.setData({ loading: false, error: s })
      }
      return undefined
    },
    switchTab(e: WechatMiniprogram.TouchEvent) {
      const tab = e.currentTarget.dataset.tab as 'list' | 'settings'
      this.setData({ tab })
      if (tab === 'settings') return this.loadSettings()
      return undefined
    },
    async openMessage(e: WechatMiniprogram.TouchEvent) {
      const index = Number(e.currentTarget.dataset.index)
      const m = this.data.items[index]
      if (!m) return
      if (!m.read) {
        // Only that row changes (by path): the list is not sent to the view again.
        const unread = Math.max(0, this.data.unread - 1)
        this.setData({ [`items[${index}].read`]: true, unread })
        showUnread(unread)
        request(MARK_MESSAGE_READ, { id: m.id }).catch(() => undefined)
      }
      // The BFF names the page the message opens (with msg=<id>); older messages only an order.
      if (m.page) wx.navigateTo({ url: m.page.charAt(0) === '/' ? m.page : `/${m.page}` })
      else if (m.orderId) wx.navigateTo({ url: `/pages/order/order?id=${m.orderId}` })
    },
    async loadSettings() {
      this.setData({ settingsLoading: true, error: null })
      try {
        const [{ data }, setting] = await Promise.all([
          request<{ notificationSettings: Settings; subscriptionGrants: Grant[] }>(NOTIFICATION_SETTINGS),
          subscriptionsSetting(),
        ])
        const s = data.notificationSettings
        const off = switchedOff(setting, KINDS.map((k) => ORDER_TEMPLATES[k.value]))
        const left: Record<string, number> = {}
        // Grants name their kind in lower case (order_shipped); the settings use the enum (ORDER_SHIPPED).
        data.subscriptionGrants.forEach((g) => {
          const kind = (g.kind || '').toUpperCase()
          left[kind] = (left[kind] || 0) + g.remaining
        })
        this.setData({
          settingsLoading: false,
          kinds: KINDS.map((k) => ({
            ...k, templateId: ORDER_TEMPLATES[k.value], on: s.enabledKinds.indexOf(k.value) >= 0,
            remaining: left[k.value] || 0, off: off.indexOf(ORDER_TEMPLATES[k.value]) >= 0,
          })),
          followAll: s.followAll,
          dnd: Boolean(s.dndStart && s.dndEnd),
          dndStart: s.dndStart || '22:00',
          dndEnd: s.dndEnd || '08:00',
        })
      } catch (e) {
        this.setData({ settingsLoading: false, error: errorState(e) })
      }
    },
    toggleKind(e: WechatMiniprogram.TouchEvent) {
      const value = e.currentTarget.dataset.value
      this.setData({ kinds: this.data.kinds.map((k) => (k.value === value ? { ...k, on: !k.on } : k)) })
      return this.save()
    },
    toggleFollowAll() {
      this.setData({ followAll: !this.data.followAll })
      return this.save()
    },
    /** 再次订阅: one more message of this kind. Must run from the user's tap (WeChat's rule). */
    resubscribe(e: WechatMiniprogram.TouchEvent) {
      const kind = this.data.kinds.find((k) => k.value === e.currentTarget.dataset.value)
      if (!kind || this.data.resubscribing) return
      this.setData({ resubscribing: kind.value })
      wx.requestSubscribeMessage({
        tmplIds: [kind.templateId],
        success: async (res) => {
          const accepted = (res as unknown as Record<string, string>)[kind.templateId] === 'accept'
          try {
            await request(RECORD_SUBSCRIPTIONS, { results: [{ templateId: kind.templateId, accepted }] })
            toast(accepted ? '已再次订阅' : '未订阅')
          } catch (err) {
            toast(errorState(err).message)
          }
          this.setData({ resubscribing: '' })
          await this.loadSettings()
        },
        fail: () => {
          this.setData({ resubscribing: '' })
          toast('订阅未完成，请重试')
          return this.loadSettings()
        },
      })
    },
    openWechatSettings() {
      wx.openSetting({ withSubscriptions: true, complete: () => this.loadSettings() } as WechatMiniprogram.OpenSettingOption)
    },
    toggleDnd() {
      this.setData({ dnd: !this.data.dnd })
      return this.save()
    },
    onTime(e: WechatMiniprogram.PickerChange) {
      this.setData({ [String(e.currentTarget.dataset.field)]: String(e.detail.value) })
      return this.save()
    },
    async save() {
      this.setData({ saving: true })
      const input = {
        enabledKinds: this.data.kinds.filter((k) => k.on).map((k) => k.value),
        followAll: this.data.followAll,
        // null for both switches do-not-disturb off.
        dndStart: this.data.dnd ? this.data.dndStart : null,
        dndEnd: this.data.dnd ? this.data.dndEnd : null,
      }
      try {
        await request(UPDATE_NOTIFICATION_SETTINGS, { input })
        this.setData({ saving: false })
        toast('已保存')
      } catch (e) {
        this.setData({ saving: false })
        toast(errorState(e).message)
      }
    },
    onRetry() {
      return this.data.tab === 'list' ? this.load() : this.loadSettings()
    },
  },
})
