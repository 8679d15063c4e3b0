// The 未发货 / 已逾期 chips beside the status filter, against the demo BFF: each lists exactly the
// open orders whose cards say so (compared with every card of the unfiltered list, read page by
// page), combines with the status, clears when tapped again, and says the right thing when empty.
const simulate = require('miniprogram-simulate')
const { openPage, until } = require('./support/wx-shim')
const { session, tap } = require('./support/flow')

jest.setTimeout(60000)

let wxState, loginAndBind

beforeAll(() => {
  ;({ wxState, loginAndBind } = session())
})

const OPEN = ['NOT_STARTED', 'IN_PROGRESS']

/** Every card of the list on screen, loading the next pages as a thumb would. */
async function everyCard(home) {
  while (home.data.hasMore) await home.instance.onReachBottom()
  expect(home.data.items).toHaveLength(home.data.total)
  return home.data.items
}

async function shown(home, query) {
  await until(() => home.data.shownFor === query && !home.data.loading)
}

const codes = (cards) => cards.map((c) => c.code).sort()
const status = (home, value) => home.instance.onFilter({ currentTarget: { dataset: { value } } })

test('未发货 and 已逾期 list exactly the open orders whose cards say so, and combine with the status', async () => {
  await loginAndBind('filters')
  const home = await openPage(simulate, 'home')
  const all = await everyCard(home)
  const open = all.filter((c) => OPEN.includes(c.status))
  // Nothing dispatched: the card says 未发货, or 待发货 (packed, waiting for the carrier: not shipped).
  const notShipped = open.filter((c) => ['未发货', '待发货'].includes(c.delivery))
  const overdue = open.filter((c) => c.overdue)
  expect(notShipped.length).toBeGreaterThan(0)
  expect(overdue.length).toBeGreaterThan(notShipped.length - 1)
  expect(overdue.length).toBeLessThan(all.length)

  for (const [value, want] of [['NOT_SHIPPED', notShipped], ['OVERDUE', overdue]]) {
    wxState.requests.length = 0
    await tap(home, `#shipping-${value}`)
    await shown(home, `|${value}|`)
    expect(wxState.requests[0]).toMatchObject({ operation: 'Home', variables: { shipping: value } })
    expect(home.querySelector(`#shipping-${value}`).dom.className).toContain('active')
    expect(codes(await everyCard(home))).toEqual(codes(want))
    expect(wxState.requests.filter((r) => r.operation === 'Orders').every((r) => r.variables.shipping === value)).toBe(true)

    // With a status: the same cards, of that status only.
    await status(home, 'NOT_STARTED')
    await shown(home, `NOT_STARTED|${value}|`)
    expect(codes(await everyCard(home))).toEqual(codes(want.filter((c) => c.status === 'NOT_STARTED')))
    await status(home, '')
    await shown(home, `|${value}|`)

    // Tapped again: cleared, the whole list back.
    await tap(home, `#shipping-${value}`)
    await shown(home, '||')
    expect(home.data.total).toBe(all.length)
  }
})

test('an empty 未发货 list says why and what to tap', async () => {
  await loginAndBind('filters-empty')
  const home = await openPage(simulate, 'home')
  await status(home, 'COMPLETED') // a completed order is never 未发货
  await shown(home, 'COMPLETED||')
  await tap(home, '#shipping-NOT_SHIPPED')
  await shown(home, 'COMPLETED|NOT_SHIPPED|')
  expect(home.data.items).toEqual([])
  expect(home.querySelector('#empty-hint').dom.textContent).toBe('“未发货”只看未开始、进行中的订单：可切换到“全部”')
  await status(home, '')
  await shown(home, '|NOT_SHIPPED|')
  expect(home.data.items.length).toBeGreaterThan(0)
})
