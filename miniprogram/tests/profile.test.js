// The profile as on a phone, against the demo BFF: the avatar from chooseAvatar's temporary
// file uploaded and kept as an https URL; the nickname saved only after WeChat's review
// and the BFF's content check; the privacy prompt answered in place.
const fs = require('fs')
const path = require('path')
const simulate = require('miniprogram-simulate')
const { openPage, httpJson } = require('./support/wx-shim')
const { tap, session } = require('./support/flow')

let wxState, loginAndBind
const PNG = fs.readFileSync(path.resolve(__dirname, '../src/images/tab-home-active.png'))

beforeAll(() => {
  ;({ wxState, loginAndBind } = session())
})

function rawGet(url) {
  return new Promise((resolve, reject) => {
    require('http').get(url, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], bytes: Buffer.concat(chunks) }))
    }).on('error', reject)
  })
}

test('chooseAvatar → upload → the profile keeps an https URL to the stored picture', async () => {
  await loginAndBind('avatar')
  const profile = await openPage(simulate, 'profile')
  expect(profile.data.avatarUrl).toBe('')
  const temp = `http://tmp/${wxState.user}-avatar.png` // what chooseAvatar gives on a phone
  wxState.tempFiles.set(temp, PNG)
  wxState.toasts.length = 0
  await profile.instance.onChooseAvatar({ detail: { avatarUrl: temp } })
  const url = profile.data.avatarUrl
  expect(url).toMatch(/^https:\/\/.+\/api\/avatars\/[0-9a-f]{32}\.jpg$/)
  expect(wxState.toasts).toEqual(['头像已更新'])
  expect(wxState.requests.map((r) => r.operation)).toContain('uploadFile')

  // Kept by the BFF: a new visit shows it, and the picture is served (the demo has no TLS:
  // the same path over its http address) as a re-encoded JPEG.
  const again = await openPage(simulate, 'profile')
  expect(again.data.avatarUrl).toBe(url)
  const shown = JSON.stringify(again.toJSON())
  expect(shown).toContain(url) // <image src> of the avatar button
  const served = await rawGet(wxState.info.base + new URL(url).pathname)
  expect(served.status).toBe(200)
  expect(served.type).toBe('image/jpeg')
  expect(served.bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]))
})

test('a file that is not a picture is refused in Chinese and the avatar stays', async () => {
  await loginAndBind('avatar-bad')
  const profile = await openPage(simulate, 'profile')
  const temp = `wxfile://tmp_${wxState.user}.png`
  wxState.tempFiles.set(temp, Buffer.from('<html>not a picture</html>'))
  wxState.toasts.length = 0
  await profile.instance.onChooseAvatar({ detail: { avatarUrl: temp } })
  expect(profile.data.avatarUrl).toBe('')
  expect(wxState.toasts[0]).toMatch(/图片/)
})

test('the nickname is saved only after WeChat’s review passes, and the BFF checks it too', async () => {
  await loginAndBind('nick')
  const profile = await openPage(simulate, 'profile')
  const saves = () => wxState.requests.filter((r) => r.operation === 'UpdateProfile').length

  // Typed, then WeChat's review fails: nothing is sent, the input goes back.
  profile.instance.onNicknameInput({ detail: { value: '不好的昵称' } })
  wxState.toasts.length = 0
  await profile.instance.onNicknameReview({ detail: { pass: false, timeout: false } })
  expect(saves()).toBe(0)
  expect(profile.data.draft).toBe(profile.data.nickname)
  expect(wxState.toasts[0]).toMatch(/审核/)

  // Review passed: saved.
  profile.instance.onNicknameInput({ detail: { value: '王采购' } })
  await profile.instance.onNicknameReview({ detail: { pass: true, timeout: false } })
  expect(saves()).toBe(1)
  expect(profile.data.nickname).toBe('王采购')

  // WeChat let it through, the BFF's msgSecCheck does not: refused in Chinese, not kept.
  profile.instance.onNicknameInput({ detail: { value: '赌博代理' } })
  wxState.toasts.length = 0
  await profile.instance.onNicknameReview({ detail: { pass: true, timeout: false } })
  expect(wxState.toasts[0]).toMatch(/不当内容/)
  expect(profile.data.nickname).toBe('王采购')
  const me = await httpJson('POST', wxState.info.graphql, { query: '{ me { nickname } }' }, { authorization: `Bearer ${wx.getStorageSync('bff.token')}` })
  expect(me.data.data.me.nickname).toBe('王采购')
})

test('the privacy prompt is answered in place: exposure, then agree with the button id', async () => {
  // app.ts hands WeChat's request to the page's sheet.
  let handler = null
  wx.onNeedPrivacyAuthorization = (cb) => (handler = cb)
  wx.getUpdateManager = () => ({ onUpdateReady() {} })
  let appConfig = null
  global.App = (config) => (appConfig = config)
  require('../dist/app.js') // shares lib/privacy with the pages' sheets, as in the app
  appConfig.onLaunch.call(appConfig)
  expect(typeof handler).toBe('function')

  await loginAndBind('privacy')
  const profile = await openPage(simulate, 'profile')
  const sheet = profile.querySelector('#privacy')
  expect(sheet.querySelector('.mask')).toBeFalsy()
  const answers = []
  handler((a) => answers.push(a)) // e.g. the user tapped the avatar before agreeing
  await simulate.sleep(5)
  expect(sheet.querySelector('.mask')).toBeTruthy()
  expect(answers).toEqual([{ event: 'exposureAuthorization' }])
  await tap(sheet, '#privacy-agree', 'agreeprivacyauthorization')
  expect(answers).toEqual([{ event: 'exposureAuthorization' }, { event: 'agree', buttonId: 'privacy-agree' }])
  expect(sheet.querySelector('.mask')).toBeFalsy()
  expect(wxState.nav).toEqual([]) // nobody was sent to the login page

  handler((a) => answers.push(a))
  await simulate.sleep(5)
  await tap(sheet, '#privacy-disagree')
  expect(answers[answers.length - 1]).toEqual({ event: 'disagree' })
})
