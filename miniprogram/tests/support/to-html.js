// Turns a simulated page (j-component's toJSON tree: the real WXML rendered with real
// data) plus its real WXSS into a static HTML document Chromium can screenshot and measure.
// WeChat's built-in components keep their names (<wx-button>, <wx-input>, <wx-switch>) and
// get WeChat's own "style": "v2" defaults below, so the project's styles must win over them
// as they must on a phone; rpx become px at 375 px = 750 rpx. The navigation and tab bars
// take their colours from app.json and theme.json, light and dark.
const fs = require('fs')
const path = require('path')

const DIST = path.resolve(__dirname, '../../dist')

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const truthy = (v) => v === true || v === 'true' || v === ''

function attrsOf(node) {
  const a = {}
  for (const { name, value } of node.attrs || []) if (value !== undefined) a[name] = value
  return a
}

function open(tag, a, extra = {}) {
  const parts = [tag]
  if (a.class) parts.push(`class="${esc(a.class)}"`)
  if (a.style) parts.push(`style="${esc(a.style)}"`)
  if (a.id) parts.push(`id="${esc(a.id)}"`)
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== false) parts.push(v === true ? k : `${k}="${esc(v)}"`)
  return `<${parts.join(' ')}>`
}

// <image src="/images/..."> is a file of the package.
const imageSrc = (src) => (src && src.charAt(0) === '/' ? `file://${path.join(DIST, src)}` : src || '')

function render(node) {
  if (typeof node === 'string') return esc(node)
  const a = attrsOf(node)
  const kids = () => (node.children || []).map(render).join('')
  switch (node.tagName) {
    case 'wx-text':
      return `${open('span', a)}${kids()}</span>`
    case 'wx-button':
      return `${open('wx-button', a, { size: a.size, type: a.type, plain: truthy(a.plain), disabled: truthy(a.disabled) })}${kids()}</wx-button>`
    case 'wx-input': {
      const shown = a.value ? (a.password ? '••••••' : esc(a.value)) : `<span class="${esc(a.placeholderClass || 'input-placeholder')}">${esc(a.placeholder || '')}</span>`
      return `${open('wx-input', a)}${shown}</wx-input>`
    }
    case 'wx-image':
      return `<img${a.class ? ` class="${esc(a.class)}"` : ''}${a.style ? ` style="${esc(a.style)}"` : ''} src="${esc(imageSrc(a.src))}"${a.mode === 'aspectFill' ? ' data-fill' : ''} alt="">`
    case 'wx-switch': {
      const on = truthy(a.checked)
      return `<wx-switch${on ? ' checked' : ''}><i style="${on ? `background:${esc(a.color || '#07c160')};border-color:${esc(a.color || '#07c160')}` : ''}"></i></wx-switch>`
    }
    case 'wx-scroll-view':
      return `${open('div', a, { 'data-scroll': true })}${kids()}</div>`
    default:
      return `${open('div', a)}${kids()}</div>`
  }
}

// WXSS → CSS: rpx to px (÷2); `page` to the page wrapper; component tag selectors to the
// elements above (wcsc prefixes them with wx- the same way).
const TAGS = { button: 'wx-button', input: 'wx-input', switch: 'wx-switch', image: 'img' }
function wxss(text) {
  return text
    .replace(/(-?\d*\.?\d+)rpx/g, (_m, n) => `${+(parseFloat(n) / 2).toFixed(2)}px`)
    .replace(/(^|[\s,}])page(?=\s*[{,\s])/g, '$1.wx-page')
    .replace(/(^|[\s,}>+~(])(button|input|switch|image)(?=[.#:[\s,{>+~)])/g, (_m, before, tag) => before + TAGS[tag])
}

// WeChat's built-in component defaults with "style": "v2" (the WeUI 2 look of base library
// 2.x and later). Button: bold 17px, 12px 24px padding, 8px radius, and every button that is
// not size="mini" 184px wide (`wx-button:not([size=mini])`, specificity 0,1,1).
const WECHAT_V2_CSS = `
wx-button { position: relative; display: block; margin-left: auto; margin-right: auto; padding: 12px 24px; box-sizing: border-box; font-size: 17px; font-weight: 700; text-align: center; text-decoration: none; line-height: 1.41176471; border-radius: 8px; overflow: hidden; color: #06ae56; background-color: #f2f2f2; cursor: pointer; -webkit-tap-highlight-color: transparent; }
wx-button:not([size=mini]) { width: 184px; }
wx-button[size=mini] { display: inline-block; line-height: 2.3; font-size: 13px; padding: 0 1.34em; }
wx-button[type=primary] { color: #fff; background-color: #07c160; }
wx-button[type=warn] { color: #fff; background-color: #fa5151; }
wx-button[plain] { color: #353535; border: 1px solid #353535; background-color: transparent; }
wx-button[disabled]:not([type]) { color: rgba(0, 0, 0, 0.18); background-color: rgba(0, 0, 0, 0.05); }
wx-button::after { content: " "; width: 200%; height: 200%; position: absolute; top: 0; left: 0; border: 1px solid rgba(0, 0, 0, 0.2); transform: scale(0.5); transform-origin: 0 0; box-sizing: border-box; border-radius: 16px; }
wx-input { display: block; height: 1.4rem; min-height: 1.4rem; overflow: hidden; text-overflow: clip; white-space: nowrap; cursor: auto; }
wx-input .input-placeholder { color: #808080; }
wx-switch { display: inline-block; flex-shrink: 0; }
wx-switch i { display: block; position: relative; width: 52px; height: 32px; border-radius: 16px; border: 1px solid #dfdfdf; background: #dfdfdf; box-sizing: border-box; }
wx-switch i::after { content: ""; position: absolute; top: 0; left: 0; width: 30px; height: 30px; border-radius: 15px; background: #fff; box-shadow: 0 1px 3px rgba(0, 0, 0, 0.4); }
wx-switch[checked] i::after { left: 20px; }
img { width: 320px; height: 240px; display: inline-block; overflow: hidden; }
img[data-fill] { object-fit: cover; }
div[data-scroll] { overflow: hidden; }
`

const BASE_CSS = `
html, body { margin: 0; padding: 0; width: 375px; -webkit-font-smoothing: antialiased; }
div { box-sizing: border-box; }
.wx-page { min-height: 100vh; }
.with-tabbar { padding-bottom: 50px; }
.wx-nav { height: 44px; display: flex; align-items: center; justify-content: center; font-size: 17px; font-weight: 600; background: var(--nav-bg); color: var(--nav-text); }
.wx-tabbar { position: fixed; bottom: 0; left: 0; right: 0; height: 50px; display: flex; background: var(--tab-bg); border-top: 1px solid var(--tab-border); z-index: 100; }
.wx-tabbar div { flex: 1; display: flex; flex-direction: column; align-items: center; justify-content: center; font-size: 10px; color: var(--tab-color); }
.wx-tabbar div img { width: 24px; height: 24px; margin-bottom: 1px; }
.wx-tabbar div.on { color: var(--tab-selected); }
`

// app.json's window and tabBar colours through theme.json (@name), light and dark.
function barCss() {
  const theme = JSON.parse(fs.readFileSync(path.join(DIST, 'theme.json'), 'utf8'))
  const app = JSON.parse(fs.readFileSync(path.join(DIST, 'app.json'), 'utf8'))
  const pick = (mode, v) => (typeof v === 'string' && v.charAt(0) === '@' ? theme[mode][v.slice(1)] : v)
  const vars = (mode) => {
    const w = app.window
    const t = app.tabBar
    const navText = pick(mode, w.navigationBarTextStyle) === 'white' ? '#ffffff' : '#000000'
    const border = pick(mode, t.borderStyle) === 'white' ? 'rgba(255,255,255,0.15)' : 'rgba(0,0,0,0.1)'
    return `--nav-bg: ${pick(mode, w.navigationBarBackgroundColor)}; --nav-text: ${navText}; --tab-bg: ${pick(mode, t.backgroundColor)}; --tab-color: ${pick(mode, t.color)}; --tab-selected: ${pick(mode, t.selectedColor)}; --tab-border: ${border};`
  }
  return `:root { ${vars('light')} }\n@media (prefers-color-scheme: dark) { :root { ${vars('dark')} } }`
}

const TABS = [['home', '首页'], ['messages', '消息'], ['profile', '我的']]

function componentCss() {
  const dir = path.join(DIST, 'components')
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir).map((c) => fs.readFileSync(path.join(dir, c, `${c}.wxss`), 'utf8'))
}

/** page: the simulated component; name: page folder; title: navigation bar text. */
function pageHtml(page, name, title) {
  const css = [fs.readFileSync(path.join(DIST, 'app.wxss'), 'utf8'), ...componentCss(), fs.readFileSync(path.join(DIST, 'pages', name, `${name}.wxss`), 'utf8')]
    .map(wxss)
    .join('\n')
  const tree = page.toJSON()
  const body = (tree.children || []).map(render).join('')
  const isTab = TABS.some(([t]) => t === name)
  const tabbar = isTab
    ? `<div class="wx-tabbar">${TABS.map(([t, label]) => {
        const icon = path.join(DIST, 'images', `tab-${t}${t === name ? '-active' : ''}.png`)
        return `<div class="${t === name ? 'on' : ''}"><img src="file://${icon}" alt="">${label}</div>`
      }).join('')}</div>`
    : ''
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=375">
<style>${WECHAT_V2_CSS}${BASE_CSS}${barCss()}</style><style>${css}</style></head>
<body><div class="wx-page ${isTab ? 'with-tabbar' : ''}"><div class="wx-nav">${esc(title)}</div>${body}</div>${tabbar}</body></html>`
}

module.exports = { pageHtml, wxss }
