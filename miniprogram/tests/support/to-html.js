// Turns a simulated page (j-component's toJSON tree: the real WXML rendered with real
// data) plus its real WXSS into a static HTML document Chromium can screenshot.
// Built-in components become plain elements that look like WeChat's; rpx become px at
// 375 px = 750 rpx, the width of the screenshots.
const fs = require('fs')
const path = require('path')

const DIST = path.resolve(__dirname, '../../dist')

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

function attrsOf(node) {
  const a = {}
  for (const { name, value } of node.attrs || []) if (value !== undefined) a[name] = value
  return a
}

function open(tag, a, extraClass) {
  const cls = [a.class, extraClass].filter(Boolean).join(' ')
  const parts = [tag]
  if (cls) parts.push(`class="${esc(cls)}"`)
  if (a.style) parts.push(`style="${esc(a.style)}"`)
  if (a.id) parts.push(`id="${esc(a.id)}"`)
  if (a.disabled === true || a.disabled === 'true') parts.push('disabled')
  return `<${parts.join(' ')}>`
}

function render(node) {
  if (typeof node === 'string') return esc(node)
  const a = attrsOf(node)
  const kids = () => (node.children || []).map(render).join('')
  switch (node.tagName) {
    case 'wx-text':
      return `${open('span', a)}${kids()}</span>`
    case 'wx-button':
      return `${open('div', a, 'wx-button')}${kids()}</div>`
    case 'wx-input': {
      const v = a.value ? esc(a.value) : `<span class="wx-placeholder">${esc(a.placeholder || '')}</span>`
      return `${open('div', a, 'wx-input')}${a.password && a.value ? '••••••' : v}</div>`
    }
    case 'wx-image':
      return `<img class="${esc(a.class || '')}" style="${esc(a.style || '')}" src="${esc(a.src || '')}">`
    case 'wx-switch':
      return `<span class="wx-switch ${a.checked === true || a.checked === 'true' ? 'on' : ''}"><i></i></span>`
    case 'wx-scroll-view':
      return `${open('div', a, 'wx-scroll-view')}${kids()}</div>`
    default:
      return `${open('div', a)}${kids()}</div>`
  }
}

// WXSS → CSS: rpx to px (÷2), `page` to the page wrapper.
function wxss(text) {
  return text
    .replace(/(-?\d*\.?\d+)rpx/g, (_m, n) => `${+(parseFloat(n) / 2).toFixed(2)}px`)
    .replace(/(^|[\s,}])page(?=\s*[{,\s])/g, '$1.wx-page')
}

// What WeChat's own built-in components look like, minimally.
const BUILTIN_CSS = `
html, body { margin: 0; padding: 0; width: 375px; -webkit-font-smoothing: antialiased; }
div { box-sizing: border-box; }
.wx-page { min-height: 100vh; }
.wx-button { display: block; cursor: pointer; }
.wx-input { display: flex; align-items: center; overflow: hidden; white-space: nowrap; }
.wx-placeholder { color: #BFBFBF; }
.wx-scroll-view { overflow: hidden; }
.wx-switch { display: inline-block; width: 50px; height: 30px; border-radius: 15px; background: #E5E5E5; position: relative; flex-shrink: 0; }
.wx-switch i { position: absolute; top: 2px; left: 2px; width: 26px; height: 26px; border-radius: 50%; background: #fff; box-shadow: 0 1px 3px rgba(0,0,0,.3); }
.wx-switch.on { background: #1890FF; }
.wx-switch.on i { left: 22px; }
.wx-nav { height: 44px; display: flex; align-items: center; justify-content: center; font-size: 17px; font-weight: 600; background: #fff; color: #000; border-bottom: 1px solid #eee; }
.wx-tabbar { position: fixed; bottom: 0; left: 0; right: 0; height: 50px; display: flex; background: #fff; border-top: 1px solid #eee; z-index: 100; }
.wx-tabbar div { flex: 1; display: flex; flex-direction: column; align-items: center; justify-content: center; font-size: 10px; color: #8C8C8C; }
.wx-tabbar div img { width: 24px; height: 24px; margin-bottom: 1px; }
.wx-tabbar div.on { color: #1890FF; }
.with-tabbar { padding-bottom: 50px; }
@media (prefers-color-scheme: dark) {
  .wx-nav, .wx-tabbar { background: #1f1f1f; color: #fff; border-color: #303030; }
  .wx-tabbar div.on { color: #3C9AE8; }
  .wx-switch { background: #434343; }
}
`

const TABS = [['home', '首页'], ['messages', '消息'], ['profile', '我的']]

/** page: the simulated component; name: page folder; title: navigation bar text. */
function pageHtml(page, name, title) {
  const css = [fs.readFileSync(path.join(DIST, 'app.wxss'), 'utf8'), fs.readFileSync(path.join(DIST, 'pages', name, `${name}.wxss`), 'utf8')]
    .map(wxss)
    .join('\n')
  const tree = page.toJSON()
  const body = (tree.children || []).map(render).join('')
  const isTab = TABS.some(([t]) => t === name)
  const tabbar = isTab
    ? `<div class="wx-tabbar">${TABS.map(([t, label]) => {
        const icon = path.join(DIST, 'images', `tab-${t}${t === name ? '-active' : ''}.png`)
        return `<div class="${t === name ? 'on' : ''}"><img src="file://${icon}">${label}</div>`
      }).join('')}</div>`
    : ''
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=375">
<style>${BUILTIN_CSS}</style><style>${css}</style></head>
<body><div class="wx-page ${isTab ? 'with-tabbar' : ''}"><div class="wx-nav">${esc(title)}</div>${body}</div>${tabbar}</body></html>`
}

module.exports = { pageHtml, wxss }
