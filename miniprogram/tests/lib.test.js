// The client's pure parts: error table, formatting, invite codes.
const fs = require('fs')
const path = require('path')
const { describe: describeError, GqlError } = require('../dist/lib/errors')
const format = require('../dist/lib/format')
const { inviteFromScan } = require('../dist/lib/invite')
const orders = require('../dist/lib/orders')
const { switchedOff } = require('../dist/lib/subscriptions')

test('every error code the BFF has (its ErrorCode enum) has its own Chinese message and next step', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8')
  const source = fs.readFileSync(path.resolve(__dirname, '../../bff/core/errors.py'), 'utf8')
  const enumBody = source.split('class ErrorCode')[1].split('\n\n\n')[0]
  const codes = [...enumBody.matchAll(/^ {4}([A-Z_]+) = "\1"$/gm)].map((m) => m[1])
  expect(codes.length).toBeGreaterThanOrEqual(20)
  const fallback = describeError('SOMETHING_NEW')
  const missing = codes.filter((code) => code !== 'INTERNAL' && describeError(code) === fallback)
  expect(missing).toEqual([]) // a code the client does not know would read as 系统繁忙
  for (const code of codes) {
    expect(readme).toContain(code)
    const info = describeError(code)
    expect(info.message).toMatch(/[\u4e00-\u9fa5]/)
    expect(info.actionText).toMatch(/[\u4e00-\u9fa5]/)
  }
  expect(describeError('OVERLOADED').action).toBe('retry')
  expect(describeError('NOT_BOUND').action).toBe('bind')
  expect(describeError('UNAUTHENTICATED').action).toBe('login')
  expect(describeError('SOMETHING_NEW').action).toBe('retry')
})

test('the BFF’s own Chinese message wins; English server text falls back to the table', () => {
  expect(new GqlError('BIND_FAILED', '邀请码无效').message).toBe('邀请码无效')
  expect(new GqlError('INTERNAL', 'Traceback…').message).toBe(describeError('INTERNAL').message)
})

test('a file size reads as a purchaser expects it, and an unknown one is left out', () => {
  expect([0, 1023, 1024, 1025, 1024 * 1024 - 1, 1024 * 1024, 20 * 1024 * 1024 + 1].map(format.fileSize))
    .toEqual(['0 B', '1023 B', '1 KB', '2 KB', '1024 KB', '1.0 MB', '20.0 MB'])
  expect([null, undefined, -1, NaN].map(format.fileSize)).toEqual(['', '', '', ''])
})

test('dates are shown in Beijing time', () => {
  expect(format.date('2026-12-26T16:00:00+00:00')).toBe('2026-12-27')
  expect(format.dateTime('2026-11-22T03:00:00+00:00')).toBe('2026-11-22 11:00')
  expect(format.date(null)).toBe('—')
})

test('percent, duration and quantity', () => {
  expect(format.percent(0.4879)).toBe(48) // rounded down, as the BFF words it: 99.6 % is not yet 100 %
  expect(format.percent(0.996)).toBe(99)
  expect(format.percent(1.7)).toBe(100)
  expect(format.percent(undefined)).toBe(0)
  expect(format.duration(212400)).toBe('2天')
  expect(format.duration(7200)).toBe('2小时')
  expect(format.quantity(12.5, '件')).toBe('12.5 件')
  expect(format.quantity(100, null)).toBe('100')
})

test('invite codes from typing or scanning', () => {
  expect(inviteFromScan(' pwa4nfew ')).toBe('PWA4NFEW')
  expect(inviteFromScan('https://x.example.com/bind?inviteCode=PWA4NFEW&from=qr')).toBe('PWA4NFEW')
  expect(inviteFromScan('pages/login/login?code=ab12cd34')).toBe('AB12CD34')
})

// The delivery vocabulary as the pages show it (docs/delivery.md), situation by situation:
// what the BFF answers for a card (its table: tests/orders/test_delivery_semantics.py) → what
// the card says. Only a dispatched delivery is 已发货; packed goods are 待发货 in warning colour.
const CARDS = [
  // situation, BFF answer, expected card
  ['not started', { deliveryStatus: 'NONE', deliveryText: '未发货', shippedRate: 0, producedRate: 0 }, { delivery: '未发货', shippedPct: 0, producedPct: 0, awaiting: false }],
  ['producing 32 %', { deliveryStatus: 'NONE', deliveryText: '未发货', shippedRate: 0, producedRate: 0.3264 }, { delivery: '未发货', shippedPct: 0, producedPct: 32, awaiting: false }],
  ['packed, not dispatched (SO2026112001)', { deliveryStatus: 'AWAITING_DISPATCH', deliveryText: '待发货', shippedRate: 0, producedRate: 0.5496 }, { delivery: '待发货', shippedPct: 0, producedPct: 54, awaiting: true }],
  ['one dispatched, one packed', { deliveryStatus: 'AWAITING_DISPATCH', deliveryText: '已发货 50% · 另有待发货', shippedRate: 0.5, producedRate: 1 }, { delivery: '已发货 50% · 另有待发货', shippedPct: 50, producedPct: 100, awaiting: true }],
  ['partly dispatched', { deliveryStatus: 'PARTIAL', deliveryText: '已发货 30%', shippedRate: 0.3, producedRate: 0.6 }, { delivery: '已发货 30%', shippedPct: 30, producedPct: 60, awaiting: false }],
  ['all but a sliver', { deliveryStatus: 'PARTIAL', deliveryText: '已发货 99%', shippedRate: 0.996, producedRate: 1 }, { delivery: '已发货 99%', shippedPct: 99, producedPct: 100, awaiting: false }],
  ['fully dispatched', { deliveryStatus: 'ALL', deliveryText: '已全部发货', shippedRate: 1, producedRate: 1 }, { delivery: '已全部发货', shippedPct: 100, producedPct: 100, awaiting: false }],
]

test.each(CARDS)('card: %s', (_name, answer, expected) => {
  const base = { id: '1', code: 'SO2026112001', customerOrderCode: 'PO-2026-0042', status: 'IN_PROGRESS', statusName: '进行中', date: null, deliveryDate: '2026-12-26T16:00:00+00:00', overdue: false, amount: 115617, currency: 'CNY', materialSummary: '电磁阀 SY5120-5DZ-01 等 6 项' }
  const c = orders.card({ ...base, ...answer })
  expect({ delivery: c.delivery, shippedPct: c.shippedPct, producedPct: c.producedPct, awaiting: c.awaiting }).toEqual(expected)
  expect(c.shippedPct).toBeLessThanOrEqual(c.producedPct) // never shipped > produced
  expect(c).toMatchObject({ po: 'PO-2026-0042', amount: '¥115,617.00', summary: '电磁阀 SY5120-5DZ-01 等 6 项', deliveryDate: '2026-12-27' })
  expect(c).not.toHaveProperty('customerName') // the purchaser's own company is not repeated
})

test('overdue cards are marked', () => {
  const c = orders.card({ id: '1', code: 'SO1', customerOrderCode: null, status: 'IN_PROGRESS', statusName: '进行中', date: null, deliveryDate: null, deliveryStatus: 'NONE', deliveryText: '未发货', shippedRate: 0, producedRate: 0, overdue: true, amount: null, currency: null, materialSummary: null })
  expect(c).toMatchObject({ overdue: true, po: '', amount: '', summary: '' })
})

// The timeline as the page draws it: one current step, done steps, a step under way that is not
// the current one (active: 生产中 while a delivery waits, not grey), the rest to come.
const TIMELINES = [
  ['producing 32 %', [['已下单', true, false], ['生产中', false, true], ['完成', false, false]], ['done', 'current', 'todo']],
  ['packed, not dispatched', [['已下单', true, false], ['生产中', false, false, true], ['第1批 待发货', false, true], ['完成', false, false]], ['done', 'active', 'current', 'todo']],
  ['completed', [['已下单', true, false], ['生产完成', true, false], ['第1批 已发货', true, false], ['已完成', true, true]], ['done', 'done', 'done', 'current']],
  ['cancelled', [['已下单', true, false], ['生产中', false, false], ['已取消', true, true]], ['done', 'todo', 'current']],
]

test.each(TIMELINES)('timeline: %s', (_name, steps, states) => {
  const rows = orders.timeline(steps.map(([title, done, current, inProgress], i) => ({ kind: 'X', title, done, current, inProgress: Boolean(inProgress), at: i ? null : '2026-11-20T01:00:00Z', durationS: null, detail: null })))
  expect(rows.map((r) => r.state)).toEqual(states)
  expect(rows.filter((r) => r.state === 'current')).toHaveLength(1)
  // A finished step the ERP kept no time for says so; a step to come shows no time.
  rows.forEach((r, i) => expect(r.at).toBe(i === 0 ? '2026-11-20 09:00' : steps[i][1] ? '时间未记录' : ''))
})

test('a current step with a time says when it began', () => {
  const [row] = orders.timeline([{ kind: 'PRODUCTION', title: '生产中', done: false, current: true, inProgress: false, at: '2026-11-20T01:00:00Z', durationS: null, detail: null }])
  expect(row.at).toBe('始于 2026-11-20 09:00')
})

test('the age of data kept on the device, in Beijing time', () => {
  const now = Date.parse('2026-11-25T02:00:00Z') // 10:00 in Beijing
  expect(format.updatedAt(Date.parse('2026-11-25T01:30:00Z'), now)).toBe('今天 09:30')
  expect(format.updatedAt(Date.parse('2026-11-24T15:59:00Z'), now)).toBe('11-24 23:59')
})

test('shipments: packed is 待发货 without a carrier; dispatched shows what it carries', () => {
  const packed = orders.shipment({ id: '1', code: 'XSCK1', state: 'PACKED', shipDate: null, logisticsCompany: null, trackingNumber: null, remark: null, address: null, contact: null, mobile: null, attachments: [] })
  expect(packed).toMatchObject({ stateName: '待发货', logisticsCompany: '待发运', trackingNumber: '' })
  const sent = orders.shipment({ id: '2', code: 'XSCK2', state: 'DISPATCHED', shipDate: null, logisticsCompany: null, trackingNumber: 'YT2575314341109', remark: '金通物流-青田白帆', address: null, contact: null, mobile: null, attachments: [] })
  expect(sent).toMatchObject({ stateName: '已发货', logisticsCompany: '待更新', remark: '金通物流-青田白帆' })
  expect(orders.lines([{ name: '熔芯', spec: 'NT00-63A', quantity: 2, productCode: null }])).toEqual([{ name: '熔芯', spec: 'NT00-63A', quantity: '2' }])
})

test('a material whose packed goods are not known exactly says its dispatched share is a lower bound', () => {
  const row = (exact) => orders.material({ id: '1', name: '电磁阀', spec: null, brand: null, quantity: 20, unit: '件', progress: { produced: 20, shipped: 5, awaitingDispatch: 10, exact, producedRatio: 1, shippedRatio: 0.25, stage: 'AWAITING_DISPATCH' } })
  expect(row(true)).toMatchObject({ shippedLabel: '已发货', awaiting: '待发货 10 件', shippedPct: 25, stage: '待发货' })
  expect(row(false)).toMatchObject({ shippedLabel: '已发货≥', awaiting: '待发货 至多 10 件' })
})

test('a template switched off for good in WeChat is detected', () => {
  const ids = ['TPL_ORDER_STATUS', 'TPL_PRODUCTION_DONE', 'TPL_ORDER_SHIPPED']
  expect(switchedOff(undefined, ids)).toEqual([])
  expect(switchedOff({ mainSwitch: true, itemSettings: { TPL_ORDER_SHIPPED: 'ban', TPL_ORDER_STATUS: 'accept' } }, ids)).toEqual(['TPL_ORDER_SHIPPED'])
  expect(switchedOff({ mainSwitch: false, itemSettings: {} }, ids)).toEqual(ids)
})
