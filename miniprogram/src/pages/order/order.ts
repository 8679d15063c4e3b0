// Order detail: live status, timeline, materials with progress bars, shipments (what each
// carries, copyable carrier and tracking number, remark, attachments opened through the BFF)
// and 订阅此订单: requestSubscribeMessage → recordSubscriptions (each accept is one message the
// BFF may send) and followOrder (the BFF spends them on this order's changes only).
// The last good answer is kept on the device (lib/keep): shown at once while loading and kept on
// screen, with its age, when a refresh fails.
import { ORDER_TEMPLATES } from '../../config'
import { MARK_MESSAGE_READ, RECORD_SUBSCRIPTIONS } from '../../graphql/messages'
import { FOLLOW_ORDER, ORDER_DETAIL, SHIPMENT_LINES } from '../../graphql/orders'
import { errorState } from '../../lib/errors'
import { fetchAttachment, openFile } from '../../lib/files'
import { date, money, percent, updatedAt } from '../../lib/format'
import { request } from '../../lib/gql'
import { keep, kept } from '../../lib/keep'
import { lines, material, MaterialRow, shipment, ShipmentLine, ShipmentRow, Step, timeline } from '../../lib/orders'
import { here, toast, toLogin } from '../../lib/page'
import { hasSession } from '../../lib/session'

interface Detail {
  id: string
  code: string
  customerOrderCode: string | null
  date: string | null
  deliveryDate: string | null
  status: string
  statusName: string
  amount: number | null
  currency: string | null
  remark: string | null
  overdue: boolean
  followed: boolean
  deliveryStatus: string
  deliveryText: string
  shippedRate: number
  producedRate: number
  timeline: Step[]
  materials: MaterialRow[]
  shipments: ShipmentRow[]
}

function view(o: Detail) {
  return {
    id: o.id,
    code: o.code,
    customerOrderCode: o.customerOrderCode || '',
    date: date(o.date),
    deliveryDate: date(o.deliveryDate),
    status: o.status,
    statusName: o.statusName,
    amount: money(o.amount, o.currency),
    remark: o.remark || '',
    overdue: o.overdue,
    followed: o.followed,
    delivery: o.deliveryText,
    awaiting: o.deliveryStatus === 'AWAITING_DISPATCH',
    producedPct: percent(o.producedRate),
    shippedPct: percent(o.shippedRate),
    timeline: timeline(o.timeline),
    materials: o.materials.map(material),
    shipments: o.shipments.map(shipment),
  }
}

type View = ReturnType<typeof view>

/** What the device keeps of an order page: the detail and, once loaded, what each shipment carries. */
interface KeptOrder {
  order: Detail
  lines?: Record<string, ShipmentLine[]>
}

Component({
  data: {
    id: '',
    /** This page's own path and query (where to come back after a login). */
    self: '',
    /** When the order shown was answered (ms): its age once a refresh fails. */
    shownAt: 0,
    loading: true,
    error: null as null | { message: string; actionText: string },
    order: null as View | null,
    stale: false,
    /** The order shown is the device's copy: when it was answered ("今天 09:30"), else ''. */
    keptAt: '',
    /** Why the last refresh failed while the kept copy stays shown. */
    offline: '',
    subscribing: false,
    subscribed: '',
    /** The shipment whose track a notification opened (its id), scrolled to once shown. */
    focus: '',
    /** The attachment being fetched (its url) and how far (0..100). */
    opening: '',
    progress: 0,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      // A notification tapped while signed out: after login the user lands here, not on the list.
      this.setData({ id: query.id || '', self: here('/pages/order/order', query), focus: query.shipment || '' })
      if (!hasSession()) return toLogin('login', this.data.self)
      // Opened from a notification: the message carries its id so it can be marked read.
      if (query.msg) request(MARK_MESSAGE_READ, { id: query.msg }).catch(() => undefined)
      return this.load()
    },
    async onPullDownRefresh() {
      await this.load()
      wx.stopPullDownRefresh()
    },
    async load() {
      const name = `order:${this.data.id}`
      if (this.data.order === null) {
        const copy = kept<KeptOrder>(name)
        if (copy) this.showKept(copy.data, copy.at)
      }
      this.setData({ loading: this.data.order === null, error: null })
      try {
        const { data, stale } = await request<{ order: Detail }>(ORDER_DETAIL, { id: this.data.id })
        this.setData({ loading: false, order: view(data.order), stale, keptAt: '', offline: '', shownAt: Date.now() })
        keep<KeptOrder>(name, { order: data.order })
        wx.setNavigationBarTitle({ title: data.order.code })
        if (this.data.focus) wx.pageScrollTo({ selector: `#ship-${this.data.focus}`, duration: 0 })
        if (data.order.shipments.length) await this.loadLines()
      } catch (e) {
        const s = errorState(e)
        if (s.code === 'NOT_BOUND') return toLogin('bind', this.data.self)
        // A failed refresh never removes what is shown: the order stays, with its age.
        if (this.data.order) this.setData({ loading: false, keptAt: updatedAt(this.data.shownAt), offline: s.message })
        else this.setData({ loading: false, error: s })
      }
      return undefined
    },
    /** The device's copy of this order, shown before (or instead of) the BFF's answer. */
    showKept(copy: KeptOrder, at: number) {
      const v = view(copy.order)
      const found = copy.lines || {}
      v.shipments.forEach((s) => {
        if (found[s.id]) Object.assign(s, { lines: lines(found[s.id]), linesLoaded: true })
      })
      this.setData({ order: v, keptAt: updatedAt(at), shownAt: at })
    },
    onRetry() {
      return this.load()
    },
    /** 刷新 of a track: the order again (the BFF asks the tracking service when the track is stale). */
    onRefreshTrack() {
      return this.load()
    },
    /** What each shipment carries, once the detail is on screen: one small request per shipment
     * (one ERP read each), side by side, each shown as it arrives. */
    async loadLines() {
      const order = this.data.order
      if (!order) return
      const found: Record<string, ShipmentLine[]> = {}
      await Promise.all(order.shipments.map(async (s, i) => {
        try {
          const { data } = await request<{ shipment: { id: string; lines: ShipmentLine[] } }>(SHIPMENT_LINES, { id: s.id })
          found[s.id] = data.shipment.lines
          this.setData({
            [`order.shipments[${i}].lines`]: lines(data.shipment.lines),
            [`order.shipments[${i}].linesLoaded`]: true,
            [`order.shipments[${i}].linesFailed`]: false,
          })
        } catch (_e) {
          // The shipment stays shown without its contents, said so; pull to refresh tries again.
          if (!s.linesLoaded) this.setData({ [`order.shipments[${i}].linesFailed`]: true })
        }
      }))
      const copy = kept<KeptOrder>(`order:${this.data.id}`)
      if (copy && Object.keys(found).length) {
        keep<KeptOrder>(`order:${this.data.id}`, { order: copy.data.order, lines: { ...copy.data.lines, ...found } }, copy.at)
      }
    },
    /** Copies a tracking number, a carrier or a remark (the actual carrier and route). */
    copyText(e: WechatMiniprogram.TouchEvent) {
      const text = String(e.currentTarget.dataset.text || '')
      if (text) wx.setClipboardData({ data: text })
    },
    openMaterial(e: WechatMiniprogram.TouchEvent) {
      wx.navigateTo({ url: `/pages/material/material?id=${e.currentTarget.dataset.id}` })
    },
    /** Fetches an attachment through the BFF and opens it; an error is the BFF's own words, with 重试. */
    async openAttachment(e: WechatMiniprogram.TouchEvent) {
      const url = String(e.currentTarget.dataset.url || '')
      const name = String(e.currentTarget.dataset.name || '')
      if (!url || this.data.opening) return
      this.setData({ opening: url, progress: 0 })
      try {
        const file = await fetchAttachment(url, name, (progress) => this.setData({ progress }))
        this.setData({ opening: '' })
        await openFile(file, name)
      } catch (err) {
        this.setData({ opening: '' })
        const s = errorState(err)
        const retry = s.action === 'retry' || s.action === 'wait'
        wx.showModal({
          title: '附件打不开',
          content: s.message,
          showCancel: retry,
          confirmText: retry ? '重试' : '知道了',
          cancelText: '关闭',
          success: (r) => {
            if (retry && r.confirm) this.openAttachment(e)
          },
        })
      }
    },
    /** 订阅此订单. Must run from the user's tap: WeChat only shows the subscribe dialog then. */
    onSubscribe() {
      if (this.data.subscribing || !this.data.order) return
      const ids = [ORDER_TEMPLATES.ORDER_STATUS, ORDER_TEMPLATES.PRODUCTION_DONE, ORDER_TEMPLATES.ORDER_SHIPPED]
      this.setData({ subscribing: true })
      wx.requestSubscribeMessage({
        tmplIds: ids,
        success: async (res) => {
          const answers = res as unknown as Record<string, string>
          const results = ids.map((id) => ({ templateId: id, accepted: answers[id] === 'accept' }))
          const accepted = results.filter((r) => r.accepted).length
          try {
            await request(RECORD_SUBSCRIPTIONS, { results })
            if (accepted) await request(FOLLOW_ORDER, { id: this.data.id, follow: true })
            const text = accepted ? `已订阅此订单 ${accepted} 类通知` : '未订阅任何通知'
            this.setData({ subscribing: false, subscribed: text, 'order.followed': accepted > 0 || this.data.order!.followed })
            toast(text)
          } catch (err) {
            this.setData({ subscribing: false })
            toast(errorState(err).message)
          }
        },
        fail: () => {
          this.setData({ subscribing: false })
          toast('订阅未完成，可在消息设置中再次订阅')
        },
      })
    },
    async onUnfollow() {
      try {
        await request(FOLLOW_ORDER, { id: this.data.id, follow: false })
        this.setData({ 'order.followed': false, subscribed: '' })
        toast('已取消订阅此订单')
      } catch (err) {
        toast(errorState(err).message)
      }
    },
  },
})
