// The client's pure parts: error table, formatting, invite codes.
const fs = require('fs')
const path = require('path')
const { describe: describeError, GqlError } = require('../dist/lib/errors')
const format = require('../dist/lib/format')
const { inviteFromScan } = require('../dist/lib/invite')

test('every error code the BFF documents has a Chinese message and a next step', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8')
  const codes = ['UNAUTHENTICATED', 'NOT_BOUND', 'FORBIDDEN', 'BAD_USER_INPUT', 'NOT_FOUND', 'RATE_LIMITED', 'BIND_FAILED', 'WX_LOGIN_FAILED', 'ERP_UNAVAILABLE', 'ERP_DATA_INVALID', 'INTERNAL']
  for (const code of codes) {
    expect(readme).toContain(code)
    const info = describeError(code)
    expect(info.message).toMatch(/[\u4e00-\u9fa5]/)
    expect(info.actionText).toMatch(/[\u4e00-\u9fa5]/)
  }
  expect(describeError('NOT_BOUND').action).toBe('bind')
  expect(describeError('UNAUTHENTICATED').action).toBe('login')
  expect(describeError('SOMETHING_NEW').action).toBe('retry')
})

test('the BFF’s own Chinese message wins; English server text falls back to the table', () => {
  expect(new GqlError('BIND_FAILED', '邀请码无效').message).toBe('邀请码无效')
  expect(new GqlError('INTERNAL', 'Traceback…').message).toBe(describeError('INTERNAL').message)
})

test('dates are shown in Beijing time', () => {
  expect(format.date('2026-12-26T16:00:00+00:00')).toBe('2026-12-27')
  expect(format.dateTime('2026-11-22T03:00:00+00:00')).toBe('2026-11-22 11:00')
  expect(format.date(null)).toBe('—')
})

test('percent, duration and quantity', () => {
  expect(format.percent(0.4879)).toBe(49)
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
