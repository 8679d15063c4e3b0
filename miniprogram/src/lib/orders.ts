// What the order pages show, from the BFF's answers: pure functions (tests/lib.test.js runs
// them table by table). The words come from the BFF (deliveryText, timeline titles): the
// client never decides what "shipped" means (docs/delivery.md).
import { date, dateTime, duration, fileSize, money, percent, quantity, SHIPMENT_STATES, STAGE_NAMES } from './format'

export interface OrderCard {
  id: string
  code: string
  customerOrderCode: string | null
  status: string
  statusName: string
  date: string | null
  deliveryDate: string | null
  deliveryStatus: string
  deliveryText: string
  shippedRate: number
  producedRate: number
  overdue: boolean
  amount: number | null
  currency: string | null
  materialSummary: string | null
  trackingState?: string | null
}

// A parcel's state in the purchaser's words (Shipment.tracking, Order.trackingState).
const PARCEL: Record<string, string> = {
  IN_TRANSIT: '运输中', OUT_FOR_DELIVERY: '派送中', SIGNED: '已签收', PROBLEM: '运输异常', RETURNED: '已退回',
}

export function card(o: OrderCard) {
  return {
    id: o.id,
    code: o.code,
    po: o.customerOrderCode || '',
    status: o.status,
    statusName: o.statusName,
    deliveryDate: date(o.deliveryDate),
    overdue: o.overdue,
    summary: o.materialSummary || '',
    amount: money(o.amount, o.currency),
    delivery: o.deliveryText,
    // 待发货 is its own state: the bar shows what is dispatched, the text says what waits.
    awaiting: o.deliveryStatus === 'AWAITING_DISPATCH',
    producedPct: percent(o.producedRate),
    shippedPct: percent(o.shippedRate),
    // The newest shipment's parcel, when the tracking service has told: 运输中 / 已签收 …
    parcel: PARCEL[o.trackingState || ''] || '',
    parcelState: o.trackingState || '',
  }
}

export interface Tracking {
  state: string; updatedAt: string | null; carrier: string | null
  events: { time: string | null; text: string; location: string | null }[]
}

/** The track as the order page draws it: newest first, the newest one current. */
export function track(t: Tracking | null | undefined) {
  if (!t) return null
  return {
    state: t.state,
    label: PARCEL[t.state] || (t.state === 'UNSUPPORTED' ? '暂不支持自动查询' : '暂无物流信息'),
    unsupported: t.state === 'UNSUPPORTED',
    updatedAt: t.updatedAt ? `更新于 ${dateTime(t.updatedAt)}` : '',
    events: t.events.map((e, i) => ({ time: dateTime(e.time), text: e.text, current: i === 0 })),
  }
}

export interface Step {
  kind: string; title: string; at: string | null; done: boolean; current: boolean; inProgress: boolean
  durationS: number | null; detail: string | null
}

// The BFF orders the steps (no finished step after the current one); the page draws four states:
// done, current (highlighted), active (under way, e.g. 生产中 54 % while a delivery waits: not
// grey), todo. A finished step the ERP kept no time for says so instead of showing nothing.
export function timeline(steps: Step[]) {
  return steps.map((s) => {
    const state = s.current ? 'current' : s.done ? 'done' : s.inProgress ? 'active' : 'todo'
    let at = ''
    if (s.at) at = state === 'current' && !s.done ? `始于 ${dateTime(s.at)}` : dateTime(s.at)
    else if (s.done) at = '时间未记录'
    return { title: s.title, at, took: s.durationS ? `用时 ${duration(s.durationS)}` : '', detail: s.detail || '', state }
  })
}

export interface MaterialRow {
  id: string; name: string | null; spec: string | null; brand: string | null; quantity: number; unit: string | null
  progress: { produced: number; shipped: number; awaitingDispatch: number; exact: boolean; producedRatio: number; shippedRatio: number; stage: string }
}

export function material(m: MaterialRow) {
  return {
    id: m.id,
    name: m.name || '未命名物料',
    spec: [m.brand, m.spec].filter(Boolean).join(' · '),
    quantity: quantity(m.quantity, m.unit),
    stage: STAGE_NAMES[m.progress.stage] || '',
    producedPct: percent(m.progress.producedRatio),
    shippedPct: percent(m.progress.shippedRatio),
    // Not exact: a packed delivery's contents are unknown, so the dispatched share is a lower bound.
    awaiting: m.progress.awaitingDispatch > 0 ? `待发货 ${m.progress.exact ? '' : '至多 '}${quantity(m.progress.awaitingDispatch, m.unit)}` : '',
    shippedLabel: m.progress.exact ? '已发货' : '已发货≥',
  }
}

export interface ShipmentRow {
  id: string; code: string; state: string; shipDate: string | null; logisticsCompany: string | null; trackingNumber: string | null
  remark: string | null; address: string | null; contact: string | null; mobile: string | null; attachments: { name: string; url: string; size?: number | null }[]
  tracking?: Tracking | null
}

export function shipment(s: ShipmentRow) {
  const dispatched = s.state !== 'PACKED'
  return {
    id: s.id,
    code: s.code,
    state: s.state,
    stateName: SHIPMENT_STATES[s.state] || '',
    shipDate: date(s.shipDate),
    // A packed delivery has no carrier yet; a dispatched one may still be learning its company.
    logisticsCompany: s.logisticsCompany || (dispatched ? '待更新' : '待发运'),
    trackingNumber: s.trackingNumber || '',
    remark: s.remark || '',
    address: s.address || '',
    contact: [s.contact, s.mobile].filter(Boolean).join(' '),
    attachments: s.attachments.map((a) => ({ name: a.name, url: a.url, sizeText: fileSize(a.size) })),
    track: track(s.tracking),
    lines: [] as { name: string; spec: string; quantity: string }[],
    linesLoaded: false,
  }
}

export interface ShipmentLine { name: string | null; spec: string | null; quantity: number; productCode: string | null }

export function lines(rows: ShipmentLine[]) {
  return rows.map((l) => ({ name: l.name || l.productCode || '货品', spec: l.spec || '', quantity: quantity(l.quantity) }))
}
