// Display helpers. Times are shown in Beijing time whatever the phone's zone: the
// ERP and the sales staff the user talks to both work in it.

const BEIJING_OFFSET_MS = 8 * 3600 * 1000

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

function beijing(iso: string | null | undefined): Date | null {
  if (!iso) return null
  const t = Date.parse(iso)
  return isNaN(t) ? null : new Date(t + BEIJING_OFFSET_MS)
}

export function date(iso: string | null | undefined): string {
  const d = beijing(iso)
  return d ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` : '—'
}

export function dateTime(iso: string | null | undefined): string {
  const d = beijing(iso)
  return d ? `${date(iso)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}` : '—'
}

/** When data shown was answered: "今天 09:30", "11-24 09:30" (Beijing time, like every time shown). */
export function updatedAt(ms: number, nowMs = Date.now()): string {
  const d = new Date(ms + BEIJING_OFFSET_MS)
  const now = new Date(nowMs + BEIJING_OFFSET_MS)
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
  const sameDay = d.getUTCFullYear() === now.getUTCFullYear() && d.getUTCMonth() === now.getUTCMonth() && d.getUTCDate() === now.getUTCDate()
  return sameDay ? `今天 ${hm}` : `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${hm}`
}

/** A share as the BFF words it: rounded down (99.6 % is not yet 100 %), 0..100. */
export function percent(ratio: number | null | undefined): number {
  const r = typeof ratio === 'number' && isFinite(ratio) ? ratio : 0
  return Math.max(0, Math.min(100, Math.floor(r * 100 + 1e-9)))
}

/** A file's size as a purchaser reads it before downloading on a phone network ('' when unknown). */
export function fileSize(bytes: number | null | undefined): string {
  if (bytes == null || !isFinite(bytes) || bytes < 0) return ''
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

export function money(amount: number | null | undefined, currency?: string | null): string {
  if (amount == null || !isFinite(amount)) return ''
  const [whole, cents] = amount.toFixed(2).split('.')
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${!currency || currency === 'CNY' ? '¥' : `${currency} `}${grouped}.${cents}`
}

export function duration(seconds: number | null | undefined): string {
  if (seconds == null || seconds < 0) return ''
  const days = Math.floor(seconds / 86400)
  if (days >= 1) return `${days}天`
  const hours = Math.floor(seconds / 3600)
  if (hours >= 1) return `${hours}小时`
  return `${Math.max(1, Math.round(seconds / 60))}分钟`
}

export function quantity(n: number | null | undefined, unit?: string | null): string {
  if (n == null) return '—'
  const s = Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, '').replace(/\.$/, '')
  return unit ? `${s} ${unit}` : s
}

// Status filter of the home page; values are the schema's OrderStatus.
export const STATUS_FILTERS = [
  { value: '', label: '全部' },
  { value: 'NOT_STARTED', label: '未开始' },
  { value: 'IN_PROGRESS', label: '进行中' },
  { value: 'COMPLETED', label: '已完成' },
  { value: 'CANCELLED', label: '已取消' },
]

// Beside the status: open orders with nothing dispatched yet (cards saying 未发货 or 待发货), and
// overdue ones (the card's 已逾期). Tapped again, a chip is cleared; it combines with the status.
export const SHIPPING_FILTERS = [
  { value: 'NOT_SHIPPED', label: '未发货', empty: '未开始、进行中的订单都已有货物发出' },
  { value: 'OVERDUE', label: '已逾期', empty: '没有过了交货日期仍未发完货的订单' },
]

/** What an empty list says under a 未发货 / 已逾期 chip, with the status chosen beside it. */
export function shippingHint(status: string, shipping: string): string {
  const chip = SHIPPING_FILTERS.find((f) => f.value === shipping)
  if (!chip) return ''
  if (status === 'COMPLETED' || status === 'CANCELLED') return `“${chip.label}”只看未开始、进行中的订单：可切换到“全部”`
  return `${chip.empty}；再点一次“${chip.label}”可查看全部`
}

// The delivery vocabulary of the BFF (docs/delivery.md): only a dispatched delivery is 已发货.
export const STAGE_NAMES: Record<string, string> = {
  NOT_STARTED: '未开工',
  PRODUCING: '生产中',
  PRODUCED: '已生产',
  AWAITING_DISPATCH: '待发货',
  PARTIALLY_SHIPPED: '部分发货',
  SHIPPED: '已发货',
}

export const SHIPMENT_STATES: Record<string, string> = {
  PACKED: '待发货',
  DISPATCHED: '已发货',
  SIGNED: '已签收',
}
