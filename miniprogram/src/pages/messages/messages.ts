// Message centre: notifications sent to the user with their state, and the settings
// (which kinds to receive, a do-not-disturb window, remaining subscription grants).
import { PAGE_SIZE } from '../../config'
import { MARK_MESSAGE_READ, MESSAGES, NOTIFICATION_SETTINGS, UPDATE_NOTIFICATION_SETTINGS } from '../../graphql/messages'
import { errorState } from '../../lib/errors'
import { dateTime } from '../../lib/format'
import { request } from '../../lib/gql'
import { toast, toLogin } from '../../lib/page'
import { getToken } from '../../lib/session'

interface Message { id: string; kind: string | null; title: string; summary: string | null; orderId: string | null; page: string | null; state: string; createdAt: string | null; sentAt: string | null; read: boolean }
interface Settings { enabledKinds: string[]; dndStart: string | null; dndEnd: string | null; timezone: string }
interface Grant { templateId: string; kind: string | null; remaining: number }

const STATE_NAMES: Record<string, string> = { queued: '待发送', sending: '发送中', sent: '已送达', failed: '发送失败', skipped: '未发送' }
const KINDS = [
  { value: 'ORDER_STATUS', label: '订单状态变化' },
  { value: 'PRODUCTION_DONE', label: '生产完成' },
  { value: 'ORDER_SHIPPED', label: '发货通知（含运单号）' },
]

function row(m: Message) {
  return {
    id: m.id, title: m.title, summary: m.summary || '', orderId: m.orderId || '', page: m.page || '',
    state: m.state, stateName: STATE_NAMES[m.state] || m.state, time: dateTime(m.sentAt || m.createdAt), read: m.read,
  }
}
type Row = ReturnType<typeof row>

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
    kinds: KINDS.map((k) => ({ ...k, on: true, remaining: 0 })),
    dnd: false,
    dndStart: '22:00',
    dndEnd: '08:00',
    saving: false,
  },
  methods: {
    onLoad() {
      if (!getToken()) return toLogin('login')
      return this.load()
    },
    onShow() {
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
      if (!quiet && page === 1) this.setData({ loading: true, error: null })
      try {
        const { data } = await request<{ messages: { total: number; unread: number; items: Message[] } }>(MESSAGES, { page, pageSize: PAGE_SIZE })
        const rows = data.messages.items.map(row)
        this.setData({
          loading: false,
          items: page === 1 ? rows : this.data.items.concat(rows),
          unread: data.messages.unread,
          total: data.messages.total,
          page,
        })
      } catch (e) {
        const s = errorState(e)
        if (s.code === 'NOT_BOUND') return toLogin('bind')
        if (!quiet) this.setData({ loading: false, error: s })
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
      const m = this.data.items[Number(e.currentTarget.dataset.index)]
      if (!m) return
      if (!m.read) {
        const items = this.data.items.map((x) => (x.id === m.id ? { ...x, read: true } : x))
        this.setData({ items, unread: Math.max(0, this.data.unread - 1) })
        request(MARK_MESSAGE_READ, { id: m.id }).catch(() => undefined)
      }
      // The BFF names the page the message opens (with msg=<id>); older messages only an order.
      if (m.page) wx.navigateTo({ url: m.page.charAt(0) === '/' ? m.page : `/${m.page}` })
      else if (m.orderId) wx.navigateTo({ url: `/pages/order/order?id=${m.orderId}` })
    },
    async loadSettings() {
      this.setData({ settingsLoading: true, error: null })
      try {
        const { data } = await request<{ notificationSettings: Settings; subscriptionGrants: Grant[] }>(NOTIFICATION_SETTINGS)
        const s = data.notificationSettings
        const left: Record<string, number> = {}
        // Grants name their kind in lower case (order_shipped); the settings use the enum (ORDER_SHIPPED).
        data.subscriptionGrants.forEach((g) => {
          const kind = (g.kind || '').toUpperCase()
          left[kind] = (left[kind] || 0) + g.remaining
        })
        this.setData({
          settingsLoading: false,
          kinds: KINDS.map((k) => ({ ...k, on: s.enabledKinds.indexOf(k.value) >= 0, remaining: left[k.value] || 0 })),
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
