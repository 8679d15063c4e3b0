// Lists against the demo BFF: a late reply never overwrites a newer list, and a next page
// sends only its new cards to setData (measured; the figures are printed).
const simulate = require('miniprogram-simulate')
const { openPage, until } = require('./support/wx-shim')
const { session } = require('./support/flow')

let wxState, loginAndBind

beforeAll(async () => {
  ;({ wxState, loginAndBind } = session())
  await loginAndBind('lists')
})

afterEach(() => {
  wxState.delayReply = () => 0
})

/** Every setData payload a page sends, as JSON bytes (what crosses to the view layer). */
function recordSetData(page) {
  const sent = []
  const original = page.instance.setData.bind(page.instance)
  page.instance.setData = (data, cb) => {
    sent.push({ keys: Object.keys(data), bytes: Buffer.byteLength(JSON.stringify(data)) })
    return original(data, cb)
  }
  return sent
}

const filterTap = (page, value) => page.instance.onFilter({ currentTarget: { dataset: { value } } })

test('double tap on two filters: the late reply of the first is dropped', async () => {
  const home = await openPage(simulate, 'home')
  for (const [slow, fast] of [['COMPLETED', 'IN_PROGRESS'], ['IN_PROGRESS', 'COMPLETED'], ['NOT_STARTED', '']]) {
    // The first tap's reply is slow (300 ms); the second tap's comes at once.
    wxState.delayReply = (r) => (r.operation === 'Home' && (r.variables.status || '') === slow ? 300 : 0)
    const first = filterTap(home, slow)
    const second = filterTap(home, fast)
    await Promise.all([first, second])
    await until(() => wxState.inFlight === 0)
    await simulate.sleep(20)
    expect(home.data.status).toBe(fast)
    expect(home.data.loading).toBe(false)
    expect(home.data.items.length).toBeGreaterThan(0)
    if (fast) for (const o of home.data.items) expect(o.status).toBe(fast)
    else expect(new Set(home.data.items.map((o) => o.status)).size).toBeGreaterThan(1) // 全部
  }
})

test('a late next page after a new filter is dropped too', async () => {
  const home = await openPage(simulate, 'home')
  await filterTap(home, '')
  wxState.delayReply = (r) => (r.operation === 'Orders' ? 300 : 0)
  const more = home.instance.onReachBottom()
  await filterTap(home, 'COMPLETED')
  await more
  await until(() => wxState.inFlight === 0)
  for (const o of home.data.items) expect(o.status).toBe('COMPLETED')
  expect(home.data.items.length).toBeLessThanOrEqual(10)
})

test('endless scrolling appends by path: setData carries the new page only', async () => {
  const home = await openPage(simulate, 'home')
  const sent = recordSetData(home)
  let last = null
  while (home.data.hasMore) {
    sent.length = 0
    const before = home.data.items.length
    await home.instance.onReachBottom()
    const added = home.data.items.length - before
    const payload = sent.reduce((n, s) => n + s.bytes, 0)
    // The whole list, as the page used to send it each time.
    const wholeList = Buffer.byteLength(JSON.stringify({ items: home.data.items }))
    const newCards = Buffer.byteLength(JSON.stringify(home.data.items.slice(before)))
    last = { shown: home.data.items.length, added, payload, wholeList, newCards }
    expect(sent.some((s) => s.keys.includes('items'))).toBe(false)
    expect(sent.flatMap((s) => s.keys).filter((k) => k.startsWith('items['))).toHaveLength(added)
    expect(payload).toBeLessThan(newCards + 400) // the new cards plus a few small fields
  }
  expect(last.shown).toBeGreaterThanOrEqual(30)
  expect(last.payload * 2).toBeLessThan(last.wholeList)
  console.log(`next page at ${last.shown} orders: setData ${last.payload} bytes (the ${last.added} new cards: ${last.newCards} bytes); re-sending the whole list would be ${last.wholeList} bytes`)
  // Rendered as the data says: one card per item, in order.
  expect(home.querySelectorAll('.order').length).toBe(home.data.items.length)
})
