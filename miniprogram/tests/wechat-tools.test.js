// WeChat's own tools judge the package: the official WXML/WXSS compilers (wcc/wcsc from
// miniprogram-compiler), the JSON schemas and the code-quality check of miniprogram-ci, and
// the release build that refuses placeholders. Each check is also shown failing on a broken input.
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { wxmlToJs } = require('miniprogram-compiler')
const wcsc = require('miniprogram-compiler/src/wcsc')
const { schemaValidate } = require('miniprogram-ci/dist/modules/corecompiler/original/validate/schemaValidate')
// The validator miniprogram-ci itself uses (its dependency), for the schema it leaves out of schemaValidate.
const { Validator } = require(require.resolve('jsonschema', { paths: [require.resolve('miniprogram-ci')] }))
const privateSchema = require('miniprogram-ci/dist/schema/dist/projectprivateconfig.js')

const ROOT = path.resolve(__dirname, '..')
const DIST = path.join(ROOT, 'dist')
const app = JSON.parse(fs.readFileSync(path.join(DIST, 'app.json'), 'utf8'))

function filesUnder(dir, ext) {
  const out = []
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith(ext) && out.push(path.relative(dir, path.join(d, e.name)))))
  walk(dir)
  return out.sort()
}

const scratchDirs = []
afterAll(() => scratchDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

function scratch(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-tools-'))
  scratchDirs.push(dir)
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text)
  return dir
}

describe('wcc (official WXML compiler)', () => {
  test('compiles every WXML file, and every page has its template', () => {
    const wxml = filesUnder(DIST, '.wxml')
    expect(wxml.length).toBeGreaterThanOrEqual(app.pages.length)
    // eslint-disable-next-line no-new-func
    const $gwx = new Function(wxmlToJs(DIST))()
    for (const file of wxml) expect(typeof $gwx(file)).toBe('function')
  })

  test('refuses broken WXML', () => {
    expect(() => wxmlToJs(scratch({ 'a.wxml': '<view class="a">{{x}</view><view>' }))).toThrow(/wxml/)
  })
})

describe('wcsc (official WXSS compiler)', () => {
  test('compiles every WXSS file', () => {
    const files = filesUnder(DIST, '.wxss').map((f) => f.replace(/\.wxss$/, ''))
    const result = wcsc(DIST, files)
    expect(result).not.toBeInstanceOf(Error)
    for (const f of files) expect(Object.keys(result)).toContain(`${f}.wxss`)
  })

  test('refuses broken WXSS', () => {
    expect(wcsc(scratch({ 'a.wxss': '.a { color: red; ' }), ['a'])).toBeInstanceOf(Error)
  })
})

describe('JSON files against miniprogram-ci schemas', () => {
  // Unknown keys are only warnings in DevTools; here they fail too (a typo is a silent no-op).
  const check = (kind, file) => {
    const result = schemaValidate(kind, JSON.parse(fs.readFileSync(file, 'utf8')))
    return { file: path.relative(ROOT, file), errors: result.error, unknown: result.warning }
  }
  const clean = (file) => ({ file, errors: [], unknown: '' })

  test('app.json, every page and component, sitemap, theme, project.config.json', () => {
    const pageJsons = filesUnder(DIST, '.json').filter((f) => /^(pages|components)\//.test(f))
    expect(pageJsons.length).toBeGreaterThanOrEqual(app.pages.length)
    const checks = [
      check('app', path.join(DIST, 'app.json')),
      check('sitemap', path.join(DIST, app.sitemapLocation)),
      check('theme', path.join(DIST, app.themeLocation)),
      check('projectconfig', path.join(ROOT, 'project.config.json')),
      ...pageJsons.map((f) => check('page', path.join(DIST, f))),
    ]
    expect(checks).toEqual(checks.map((c) => clean(c.file)))
  })

  test('project.private.config.example.json', () => {
    const example = JSON.parse(fs.readFileSync(path.join(ROOT, 'project.private.config.example.json'), 'utf8'))
    expect(new Validator().validate(example, privateSchema).errors.map(String)).toEqual([])
    expect(example.setting.urlCheck).toBe(false)
  })

  test('a wrong app.json fails', () => {
    const result = schemaValidate('app', { ...app, pages: 'pages/home/home', window: { navigationBarTextStyle: 1 } })
    expect(result.error.length).toBeGreaterThan(0)
  })
})

describe('release build and code quality', () => {
  const RELEASE_ENV = {
    MP_RELEASE_CONFIG: path.join(os.tmpdir(), 'mp-no-release-config.json'), // only the environment counts here
    MP_APPID: 'wx0123456789abcdef',
    MP_BFF_URL: 'https://bff.huicai-orders.cn',
    MP_TPL_ORDER_STATUS: 'Xq1cM2vA8yS0dTQeK3oFzL7nWbR5uHjP9gCiE4rYtNs',
    MP_TPL_PRODUCTION_DONE: 'Yq1cM2vA8yS0dTQeK3oFzL7nWbR5uHjP9gCiE4rYtNs',
    MP_TPL_ORDER_SHIPPED: 'Zq1cM2vA8yS0dTQeK3oFzL7nWbR5uHjP9gCiE4rYtNs',
  }
  const PLACEHOLDERS = Object.fromEntries(Object.keys(RELEASE_ENV).filter((k) => k.startsWith('MP_')).map((k) => [k, '']))
  const node = (args, env) => spawnSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...PLACEHOLDERS, ...env }, encoding: 'utf8', timeout: 120000 })
  let out

  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-release-'))
  })
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }))

  test('refuses placeholders, naming each', () => {
    const example = path.join(ROOT, 'release.config.example.json')
    const run = node(['scripts/build.js', '--release', '--out', path.join(out, 'refused')], { MP_RELEASE_CONFIG: example })
    expect(run.status).not.toBe(0)
    for (const bit of ['touristappid', 'bff.huicai.example.com', 'ORDER_STATUS', 'PRODUCTION_DONE', 'ORDER_SHIPPED']) expect(run.stderr).toContain(bit)
    expect(fs.existsSync(path.join(out, 'refused'))).toBe(false)
    const http = node(['scripts/build.js', '--release', '--out', path.join(out, 'refused')], { ...RELEASE_ENV, MP_BFF_URL: 'http://bff.huicai-orders.cn' })
    expect(http.status).not.toBe(0)
    expect(http.stderr).toMatch(/must be https/)
  })

  test('a WeChat Cloud Run release: environment and service injected, no domain needed; placeholders refused', () => {
    const CLOUD = { ...RELEASE_ENV, MP_TRANSPORT: 'container', MP_BFF_URL: '', MP_CLOUD_ENV: 'prod-3g5k7x9a1b2c', MP_CLOUD_SERVICE: 'huicai-bff' }
    const dir = path.join(out, 'cloud')
    const run = node(['scripts/build.js', '--release', '--out', dir], CLOUD)
    expect(run.status).toBe(0)
    const injected = require(path.join(dir, 'miniprogram', 'build-config.js')).BUILD
    expect(injected).toMatchObject({ transport: 'container', bffUrl: '', container: { env: CLOUD.MP_CLOUD_ENV, service: CLOUD.MP_CLOUD_SERVICE } })
    const refused = node(['scripts/build.js', '--release', '--out', path.join(out, 'cloud-refused')], { ...CLOUD, MP_CLOUD_ENV: '', MP_TRANSPORT: 'container' })
    expect(refused.status).not.toBe(0)
    expect(refused.stderr).toMatch(/container\.env "" is not a WeChat Cloud Run environment id/)
  })

  test('injects the release values, minifies, and passes WeChat’s code-quality check', () => {
    const dir = path.join(out, 'ok')
    const run = node(['scripts/build.js', '--release', '--out', dir], RELEASE_ENV)
    expect(run.status).toBe(0)
    const project = JSON.parse(fs.readFileSync(path.join(dir, 'project.config.json'), 'utf8'))
    expect(project.appid).toBe(RELEASE_ENV.MP_APPID)
    expect(project.setting).toMatchObject({ minified: true, minifyWXML: true, minifyWXSS: true, urlCheck: true })
    expect(schemaValidate('projectconfig', project).error).toEqual([])
    const injected = require(path.join(dir, 'miniprogram', 'build-config.js')).BUILD
    expect(injected).toEqual({ release: true, transport: 'https', bffUrl: RELEASE_ENV.MP_BFF_URL, container: { env: '', service: '' }, templates: { ORDER_STATUS: RELEASE_ENV.MP_TPL_ORDER_STATUS, PRODUCTION_DONE: RELEASE_ENV.MP_TPL_PRODUCTION_DONE, ORDER_SHIPPED: RELEASE_ENV.MP_TPL_ORDER_SHIPPED } })
    const quality = node(['scripts/code-quality.js', dir])
    const results = JSON.parse(quality.stdout)
    console.log(`code quality: ${results.map((r) => `${r.name} ${r.success ? 'ok' : 'FAILED'}`).join(', ')}; main package ${results[0].detail.__APP__} bytes`)
    expect(results.filter((r) => !r.success)).toEqual([])
    expect(results.map((r) => r.name)).toEqual(expect.arrayContaining(['PACKAGE_SIZE_LIMIT', 'JS_COMPRESS_OPEN', 'WXML_COMPRESS_OPEN', 'WXSS_COMPRESS_OPEN', 'LAZYCODE_LOADING_OPEN']))
    expect(quality.status).toBe(0)

    // The same check fails without WXML/WXSS minification (how the project was before).
    fs.writeFileSync(path.join(dir, 'project.config.json'), JSON.stringify({ ...project, setting: { ...project.setting, minifyWXML: false, minifyWXSS: false } }))
    const unminified = node(['scripts/code-quality.js', dir])
    expect(unminified.status).toBe(1)
    expect(JSON.parse(unminified.stdout).filter((r) => !r.success).map((r) => r.name).sort()).toEqual(['WXML_COMPRESS_OPEN', 'WXSS_COMPRESS_OPEN'])
  })
})
