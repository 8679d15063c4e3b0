// Home: the company's orders. The first screen is a single request (HOME: orders + ERP
// banner); further pages use ORDERS. Search/scan, the status filter and the 未发货 / 已逾期 chips
// (beside the status, combined with it) restart the list.
// Every list request takes a ticket (lib/latest): a reply that is no longer the newest
// (a filter tapped again meanwhile) is dropped. Next pages are appended by path
// (`items[20]`, …), so setData sends only the new cards.
// On a weak network: the first page of each filter is kept on the device (lib/keep), shown at
// once while loading ("上次更新 …"), and a failed refresh never removes the list on screen.
import { PAGE_SIZE } from '../../config'
import { HOME, ORDERS } from '../../graphql/orders'
import { showUnread } from '../../lib/badge'
import { errorState } from '../../lib/errors'
import { dateTime, SHIPPING_FILTERS, shippingHint, STATUS_FILTERS, updatedAt } from '../../lib/format'
import { request } from '../../lib/gql'
import { keep, kept } from '../../lib/keep'
import { appendPaths, Latest } from '../../lib/latest'
import { card, OrderCard } from '../../lib/orders'
import { toLogin } from '../../lib/page'
import { hasSession } from '../../lib/session'

interface OrderPage {
  items: OrderCard[]
  total: number
  page: number
  pageSize: number
  stale: boolean
  asOf: string
}

interface HomeData {
  orders: OrderPage
  systemStatus?: { erpState: string; banner: string | null; degraded: boolean } | null
  messages?: { unread: number } | null
}

type Card = ReturnType<typeof card>

// One ticket counter per page instance: which list request is the newest.
const tickets = new WeakMap<object, Latest>()
function latest(page: object): Latest {
  let t = tickets.get(page)
  if (!t) tickets.set(page, (t = new Latest()))
  return t
}

Component({
  data: {
    loading: true,
    loadingMore: false,
    error: null as null | { message: string; actionText: string },
    items: [] as Card[],
    total: 0,
    page: 0,
    hasMore: false,
    keyword: '',
    status: '',
    filters: STATUS_FILTERS,
    /** NOT_SHIPPED, OVERDUE or '' (none). */
    shipping: '',
    shippingFilters: SHIPPING_FILTERS,
    /** What the empty list says under a 未发货 / 已逾期 chip. */
    shippingEmpty: '',
    banner: '',
    /** Which query the list on screen answers (status and keyword), and when it was answered. */
    shownFor: '',
    shownAt: 0,
    /** The list shown is the device's copy: when it was answered ("今天 09:30"), else ''. */
    keptAt: '',
    /** Why the last refresh failed while the list on screen stays. */
    offline: '',
  },
  methods: {
    onLoad() {
      if (!hasSession()) return toLogin('login')
      return this.reload()
    },
    async onPullDownRefresh() {
      await this.reload(true)
      wx.stopPullDownRefresh()
    },
    onReachBottom() {
      return this.loadMore()
    },

    /** First page (with the banner). What is on screen for the same query stays while
     *  refreshing; else the device's copy for it, if any, is shown at once. */
    async reload(refreshing = false) {
      const ticket = latest(this).next()
      const query = `${this.data.status}|${this.data.shipping}|${this.data.keyword}`
      // Searches are not kept: only each filter's first page.
      const name = this.data.keyword ? '' : `home:${this.data.status}${this.data.shipping ? `|${this.data.shipping}` : ''}`
      if (this.data.shownFor !== query || this.data.items.length === 0) {
        const copy = name ? kept<{ data: HomeData; stale: boolean }>(name) : null
        if (copy) this.show(copy.data.data, copy.data.stale, query, copy.at, true)
        else this.setData({ items: [], shownFor: '', keptAt: '' })
      }
      this.setData({ loading: !refreshing && this.data.items.length === 0, loadingMore: false, error: null })
      const vars: Record<string, unknown> = { pageSize: PAGE_SIZE }
      if (this.data.keyword) vars.keyword = this.data.keyword
      if (this.data.status) vars.status = this.data.status
      if (this.data.shipping) vars.shipping = this.data.shipping
      try {
        const { data, stale } = await request<HomeData>(HOME, vars, { optional: ['systemStatus', 'messages'] })
        if (data.messages) showUnread(data.messages.unread)
        if (!latest(this).isCurrent(ticket)) return undefined // a newer search or filter owns the list
        this.show(data, stale, query, Date.now(), false)
        if (name) keep(name, { data, stale })
      } catch (e) {
        if (!latest(this).isCurrent(ticket)) return undefined
        const s = errorState(e)
        if (s.code === 'NOT_BOUND') return toLogin('bind')
        // A failed refresh never removes what is shown: the list stays, with its age.
        if (this.data.items.length) this.setData({ loading: false, keptAt: updatedAt(this.data.shownAt), offline: s.message })
        else this.setData({ loading: false, error: s, items: [], banner: '', offline: '' })
      }
      return undefined
    },

    show(data: HomeData, stale: boolean, query: string, at: number, fromDevice: boolean) {
      const p = data.orders
      this.setData({
        loading: false,
        items: p.items.map(card),
        total: p.total,
        page: 1,
        hasMore: p.items.length < p.total,
        banner: this.bannerText(p, stale, data.systemStatus),
        shownFor: query,
        shownAt: at,
        keptAt: fromDevice ? updatedAt(at) : '',
        offline: '',
      })
    },

    async loadMore() {
      if (!this.data.hasMore || this.data.loadingMore || this.data.loading) return
      const ticket = latest(this).next()
      this.setData({ loadingMore: true })
      const vars: Record<string, unknown> = { page: this.data.page + 1, pageSize: PAGE_SIZE }
      if (this.data.keyword) vars.keyword = this.data.keyword
      if (this.data.status) vars.status = this.data.status
      if (this.data.shipping) vars.shipping = this.data.shipping
      try {
        const { data, stale } = await request<{ orders: OrderPage }>(ORDERS, vars)
        if (!latest(this).isCurrent(ticket)) return // the list was restarted meanwhile
        const shown = this.data.items.length
        const fresh = data.orders.items.map(card)
        this.setData({
          ...appendPaths('items', shown, fresh),
          loadingMore: false,
          page: data.orders.page,
          total: data.orders.total,
          hasMore: shown + fresh.length < data.orders.total && fresh.length > 0,
          banner: this.bannerText(data.orders, stale, null) || this.data.banner,
        })
      } catch (e) {
        if (!latest(this).isCurrent(ticket)) return
        this.setData({ loadingMore: false })
        wx.showToast({ title: errorState(e).message, icon: 'none' })
      }
    },

    bannerText(p: OrderPage, stale: boolean, status: HomeData['systemStatus']): string {
      if (p.stale || stale) return `ERP 暂时无法连接，以下为 ${dateTime(p.asOf)} 的数据，可能不是最新`
      if (status && status.degraded) return status.banner || 'ERP 响应较慢，数据可能延迟'
      return ''
    },

    onKeywordInput(e: WechatMiniprogram.Input) {
      this.setData({ keyword: e.detail.value })
    },
    onSearch() {
      return this.reload()
    },
    clearKeyword() {
      this.setData({ keyword: '' })
      return this.reload()
    },
    onScan() {
      wx.scanCode({
        onlyFromCamera: false,
        success: (r) => {
          this.setData({ keyword: r.result.trim() })
          this.reload()
        },
      })
    },
    onFilter(e: WechatMiniprogram.TouchEvent) {
      const status = String(e.currentTarget.dataset.value || '')
      if (status === this.data.status) return undefined
      this.setData({ status, shippingEmpty: shippingHint(status, this.data.shipping) })
      return this.reload()
    },
    /** 未发货 / 已逾期: one at a time, cleared when tapped again; the status stays. */
    onShipping(e: WechatMiniprogram.TouchEvent) {
      const tapped = String(e.currentTarget.dataset.value || '')
      const shipping = tapped === this.data.shipping ? '' : tapped
      this.setData({ shipping, shippingEmpty: shippingHint(this.data.status, shipping) })
      return this.reload()
    },
    openOrder(e: WechatMiniprogram.TouchEvent) {
      wx.navigateTo({ url: `/pages/order/order?id=${e.currentTarget.dataset.id}` })
    },
    onRetry() {
      return this.reload()
    },
  },
})
