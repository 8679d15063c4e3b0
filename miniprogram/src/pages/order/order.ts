// Order detail: live status, timeline, materials with progress bars, shipments (copyable
// tracking number, attachments) and the subscribe button (requestSubscribeMessage →
// recordSubscriptions: each accept is one notification the BFF may send).
import { baseUrl, ORDER_TEMPLATES } from '../../config'
import { MARK_MESSAGE_READ, RECORD_SUBSCRIPTIONS } from '../../graphql/messages'
import { ORDER_DETAIL } from '../../graphql/orders'
import { errorState } from '../../lib/errors'
import { date, dateTime, DELIVERY_NAMES, duration, percent, quantity, STAGE_NAMES } from '../../lib/format'
import { request } from '../../lib/gql'
import { toast, toLogin } from '../../lib/page'
import { getToken } from '../../lib/session'

interface Progress { producedRatio: number; shippedRatio: number; stage: string }
interface Detail {
  id: string
  code: string
  customerName: string | null
  customerOrderCode: string | null
  date: string | null
  deliveryDate: string | null
  status: string
  statusName: string
  quantity: number | null
  remark: string | null
  deliveryStatus: string
  shippedRate: number
  timeline: { kind: string; title: string; at: string | null; done: boolean; current: boolean; durationS: number | null; detail: string | null }[]
  materials: { id: string; name: string | null; spec: string | null; brand: string | null; quantity: number; unit: string | null; progress: Progress }[]
  shipments: {
    id: string; code: string; shipDate: string | null; logisticsCompany: string | null; trackingNumber: string | null
    address: string | null; contact: string | null; mobile: string | null; attachments: { name: string; url: string }[]
  }[]
}

function view(o: Detail) {
  return {
    id: o.id,
    code: o.code,
    customerName: o.customerName || '',
    customerOrderCode: o.customerOrderCode || '',
    date: date(o.date),
    deliveryDate: date(o.deliveryDate),
    status: o.status,
    statusName: o.statusName,
    remark: o.remark || '',
    delivery: DELIVERY_NAMES[o.deliveryStatus] || '',
    shippedPct: percent(o.shippedRate),
    timeline: o.timeline.map((s) => ({
      title: s.title,
      at: s.at ? dateTime(s.at) : '',
      took: s.durationS ? `用时 ${duration(s.durationS)}` : '',
      detail: s.detail || '',
      state: s.current ? 'current' : s.done ? 'done' : 'todo',
    })),
    materials: o.materials.map((m) => ({
      id: m.id,
      name: m.name || '未命名物料',
      spec: [m.brand, m.spec].filter(Boolean).join(' · '),
      quantity: quantity(m.quantity, m.unit),
      stage: STAGE_NAMES[m.progress.stage] || '',
      producedPct: percent(m.progress.producedRatio),
      shippedPct: percent(m.progress.shippedRatio),
    })),
    shipments: o.shipments.map((s) => ({
      id: s.id,
      code: s.code,
      shipDate: date(s.shipDate),
      logisticsCompany: s.logisticsCompany || '待更新',
      trackingNumber: s.trackingNumber || '',
      address: s.address || '',
      contact: [s.contact, s.mobile].filter(Boolean).join(' '),
      attachments: s.attachments,
    })),
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
    copyTracking(e: WechatMiniprogram.TouchEvent) {
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
    /** Must run from the user's tap: WeChat only shows the subscribe dialog then. */
    onSubscribe() {
      if (this.data.subscribing) return
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
            const text = accepted ? `已订阅 ${accepted} 类通知` : '未订阅任何通知'
            this.setData({ subscribing: false, subscribed: text })
            toast(text)
          } catch (err) {
            this.setData({ subscribing: false })
            toast(errorState(err).message)
          }
        },
        fail: () => {
          this.setData({ subscribing: false })
          toast('订阅未完成，可在消息设置中重新开启')
        },
      })
    },
  },
})
