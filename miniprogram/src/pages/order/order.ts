// Order detail: live status, timeline, materials with progress bars, shipments (what each
// carries, copyable carrier and tracking number, remark, attachments opened through the BFF)
// and 订阅此订单: requestSubscribeMessage → recordSubscriptions (each accept is one message the
// BFF may send) and followOrder (the BFF spends them on this order's changes only).
import { baseUrl, ORDER_TEMPLATES } from '../../config'
import { MARK_MESSAGE_READ, RECORD_SUBSCRIPTIONS } from '../../graphql/messages'
import { FOLLOW_ORDER, ORDER_DETAIL, SHIPMENT_LINES } from '../../graphql/orders'
import { errorState } from '../../lib/errors'
import { date, money, percent } from '../../lib/format'
import { request } from '../../lib/gql'
import { lines, material, MaterialRow, shipment, ShipmentLine, ShipmentRow, Step, timeline } from '../../lib/orders'
import { toast, toLogin } from '../../lib/page'
import { getToken } from '../../lib/session'

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

Component({
  data: {
    id: '',
    loading: true,
    error: null as null | { message: string; actionText: string },
    order: null as View | null,
    stale: false,
    subscribing: false,
    subscribed: '',
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      if (!getToken()) return toLogin('login')
      this.setData({ id: query.id || '' })
      // Opened from a notification: the message carries its id so it can be marked read.
      if (query.msg) request(MARK_MESSAGE_READ, { id: query.msg }).catch(() => undefined)
      return this.load()
    },
    async onPullDownRefresh() {
      await this.load()
      wx.stopPullDownRefresh()
    },
    async load() {
      this.setData({ loading: this.data.order === null, error: null })
      try {
        const { data, stale } = await request<{ order: Detail }>(ORDER_DETAIL, { id: this.data.id })
        this.setData({ loading: false, order: view(data.order), stale })
        wx.setNavigationBarTitle({ title: data.order.code })
        if (data.order.shipments.length) await this.loadLines()
      } catch (e) {
        const s = errorState(e)
        if (s.code === 'NOT_BOUND') return toLogin('bind')
        this.setData({ loading: false, error: s })
      }
      return undefined
    },
    onRetry() {
      return this.load()
    },
    /** What each shipment carries, once the detail is on screen: one small request per shipment
     * (one ERP read each), side by side, each shown as it arrives. */
    async loadLines() {
      const order = this.data.order
      if (!order) return
      await Promise.all(order.shipments.map(async (s, i) => {
        try {
          const { data } = await request<{ shipment: { id: string; lines: ShipmentLine[] } }>(SHIPMENT_LINES, { id: s.id })
          this.setData({
            [`order.shipments[${i}].lines`]: lines(data.shipment.lines),
            [`order.shipments[${i}].linesLoaded`]: true,
          })
        } catch (_e) {
          // The shipment stays shown without its contents; pull to refresh tries again.
        }
      }))
    },
    /** Copies a tracking number, a carrier or a remark (the actual carrier and route). */
    copyText(e: WechatMiniprogram.TouchEvent) {
      const text = String(e.currentTarget.dataset.text || '')
      if (text) wx.setClipboardData({ data: text })
    },
    openMaterial(e: WechatMiniprogram.TouchEvent) {
      wx.navigateTo({ url: `/pages/material/material?id=${e.currentTarget.dataset.id}` })
    },
    openAttachment(e: WechatMiniprogram.TouchEvent) {
      const url = String(e.currentTarget.dataset.url || '')
      const name = String(e.currentTarget.dataset.name || '')
      // Attachments are served by the BFF (it holds the ERP session): send the bearer token.
      wx.downloadFile({
        url: url.charAt(0) === '/' ? baseUrl() + url : url,
        header: { Authorization: `Bearer ${getToken()}` },
        success: (r) => {
          if (/\.(png|jpe?g|gif|webp)$/i.test(name)) wx.previewImage({ urls: [r.tempFilePath] })
          else wx.openDocument({ filePath: r.tempFilePath, showMenu: true })
        },
        fail: () => toast('附件下载失败，请重试'),
      })
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
