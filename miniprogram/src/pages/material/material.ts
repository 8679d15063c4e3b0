// One material's production and shipping progress, quantity by quantity.
import { MATERIAL } from '../../graphql/orders'
import { errorState } from '../../lib/errors'
import { date, percent, quantity, SHIPMENT_STATES, STAGE_NAMES } from '../../lib/format'
import { request } from '../../lib/gql'
import { toLogin } from '../../lib/page'
import { hasSession } from '../../lib/session'

interface P { ordered: number; producing: number; produced: number; unproduced: number; awaitingDispatch: number; shipped: number; returned: number; producedRatio: number; shippedRatio: number; stage: string }
interface M {
  id: string; orderId: string; orderCode: string | null; productCode: string | null; name: string | null; spec: string | null
  brand: string | null; quantity: number; unit: string | null; deliveryDate: string | null; progress: P
  shipments: { id: string; code: string; state: string; shipDate: string | null; logisticsCompany: string | null; trackingNumber: string | null }[]
}

function view(m: M) {
  const u = m.unit
  const p = m.progress
  return {
    name: m.name || '未命名物料',
    orderCode: m.orderCode || '',
    productCode: m.productCode || '',
    spec: [m.brand, m.spec].filter(Boolean).join(' · '),
    deliveryDate: date(m.deliveryDate),
    stage: STAGE_NAMES[p.stage] || '',
    producedPct: percent(p.producedRatio),
    shippedPct: percent(p.shippedRatio),
    figures: [
      { k: '订购数量', v: quantity(p.ordered, u) },
      { k: '生产中', v: quantity(p.producing, u) },
      { k: '已生产', v: quantity(p.produced, u) },
      { k: '未生产', v: quantity(p.unproduced, u) },
      { k: '待发货（已出库）', v: quantity(p.awaitingDispatch, u) },
      { k: '已发货', v: quantity(p.shipped, u) },
      { k: '退货', v: quantity(p.returned, u) },
    ],
    shipments: m.shipments.map((s) => ({
      id: s.id, code: s.code, shipDate: date(s.shipDate),
      logistics: [SHIPMENT_STATES[s.state], s.logisticsCompany, s.trackingNumber].filter(Boolean).join(' '),
    })),
  }
}

Component({
  data: {
    id: '',
    loading: true,
    error: null as null | { message: string; actionText: string },
    m: null as ReturnType<typeof view> | null,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      if (!hasSession()) return toLogin('login')
      this.setData({ id: query.id || '' })
      return this.load()
    },
    async load() {
      this.setData({ loading: true, error: null })
      try {
        const { data } = await request<{ material: M }>(MATERIAL, { id: this.data.id })
        this.setData({ loading: false, m: view(data.material) })
      } catch (e) {
        this.setData({ loading: false, error: errorState(e) })
      }
    },
    onRetry() {
      return this.load()
    },
  },
})
