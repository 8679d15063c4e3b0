// Measures rendered pages (HTML from tests/support/to-html.js) in the system's headless
// Chromium: widths of the given buttons and the contrast of every visible text, in light
// and dark mode. Prints JSON. A separate process because Playwright does not run inside
// jest's jsdom environment.
//   node scripts/measure-rendered.js DIR '{"login": ["#login"]}'   (every DIR/*.html)
const fs = require('fs')
const path = require('path')
const { chromium } = require('playwright-core')

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync']

// Runs in the page: width of each element and of its parent's content box, in CSS px.
function widthsInPage(selectors) {
  return selectors.map((selector) => {
    const n = document.querySelector(selector)
    if (!n) return { selector, missing: true }
    const p = getComputedStyle(n.parentElement)
    const room = n.parentElement.clientWidth - parseFloat(p.paddingLeft) - parseFloat(p.paddingRight)
    return { selector, width: n.getBoundingClientRect().width, room, fontWeight: Number(getComputedStyle(n).fontWeight) }
  })
}

// Runs in the page: every visible text node's colour against the background it is drawn on.
function contrastInPage() {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/)
    if (!m) return [0, 0, 0, 0]
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number)
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]
  }
  const over = (top, under) => {
    const a = top[3] + under[3] * (1 - top[3])
    if (a === 0) return [0, 0, 0, 0]
    return [0, 1, 2].map((i) => (top[i] * top[3] + under[i] * under[3] * (1 - top[3])) / a).concat(a)
  }
  const background = (el) => {
    const layers = []
    for (let n = el; n; n = n.parentElement) layers.push(parse(getComputedStyle(n).backgroundColor))
    layers.push([255, 255, 255, 1]) // the WebView's own white
    return layers.reduceRight((under, top) => over(top, under))
  }
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
  }
  const out = []
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const el = t.parentElement
    const text = t.textContent.trim()
    const box = el.getBoundingClientRect()
    const style = getComputedStyle(el)
    if (!text || box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue
    const bg = background(el)
    const fg = over(parse(style.color), bg)
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x)
    const size = parseFloat(style.fontSize)
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700)
    out.push({ text: text.slice(0, 24), ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100, need: large ? 3 : 4.5, className: String(el.className) })
  }
  return out
}

// Runs in the page, WeChat's font size setting (字体大小) imitated: every text's size times
// `scale` (line heights given in px stay, so a box too small clips). Answers what a user would
// see go wrong on a 375 px screen: tappable boxes under 44×44 px (at scale 1), the page wider
// than the screen, text overflowing its box or clipped by it, one-line labels wrapping.
function layoutInPage(scale) {
  const all = Array.from(document.querySelectorAll('.wx-page *'))
  if (scale !== 1) {
    const sizes = all.map((el) => parseFloat(getComputedStyle(el).fontSize))
    all.forEach((el, i) => (el.style.fontSize = `${sizes[i] * scale}px`))
  }
  const shown = (el) => {
    const r = el.getBoundingClientRect()
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'
  }
  const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${String(el.className).split(' ').filter(Boolean).join('.')} “${el.textContent.trim().slice(0, 12)}”`
  const out = { pageWidth: document.documentElement.scrollWidth, small: [], overflow: [], wrapped: [], tappables: 0 }
  if (scale === 1) {
    for (const el of document.querySelectorAll('.wx-page wx-button, .wx-page .tap, .wx-page .filter')) {
      if (!shown(el)) continue
      out.tappables += 1
      const r = el.getBoundingClientRect()
      if (r.height < 43.5 || r.width < 43.5) out.small.push(`${name(el)} ${Math.round(r.width)}×${Math.round(r.height)}`)
    }
  }
  for (const el of all) {
    if (!shown(el) || el.closest('[data-scroll]') || el.tagName === 'IMG') continue
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) out.overflow.push(`${name(el)} ${el.scrollWidth}>${el.clientWidth}`)
    else if (el.tagName === 'WX-INPUT' && el.scrollHeight > el.clientHeight + 1) out.overflow.push(`${name(el)} clipped ${el.scrollHeight}>${el.clientHeight}`)
  }
  for (const el of document.querySelectorAll('.wx-page .tag, .wx-page .bar-label, .wx-page .bar-pct, .wx-page .filter, .wx-page .tab, .wx-page .state-tag')) {
    if (!shown(el)) continue
    const line = parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.5
    const text = Array.from(el.childNodes).filter((n) => n.nodeType === 3 && n.textContent.trim())
    const range = document.createRange()
    const lines = text.reduce((n, t) => {
      range.selectNodeContents(t)
      return Math.max(n, new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size)
    }, 1)
    if (lines > 1 && line > 0) out.wrapped.push(name(el))
  }
  return out
}

async function main(dir, buttons) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  const result = { widths: {}, contrast: {}, layout: {} }
  try {
    for (const scheme of ['light', 'dark']) {
      const page = await browser.newPage({ viewport: { width: 375, height: 812 }, colorScheme: scheme })
      for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.html')).map((f) => f.slice(0, -5))) {
        await page.goto(`file://${path.join(dir, `${name}.html`)}`)
        result.contrast[`${name}/${scheme}`] = await page.evaluate(contrastInPage)
        if (scheme === 'light' && buttons[name]) result.widths[name] = await page.evaluate(widthsInPage, buttons[name])
        if (scheme === 'light') {
          for (const scale of [1, 1.3, 1.5]) {
            if (scale !== 1) await page.goto(`file://${path.join(dir, `${name}.html`)}`) // sizes afresh
            result.layout[`${name}@${scale}`] = await page.evaluate(layoutInPage, scale)
          }
        }
      }
      await page.close()
    }
  } finally {
    await browser.close()
  }
  process.stdout.write(JSON.stringify(result))
}

main(path.resolve(process.argv[2]), JSON.parse(process.argv[3] || '{}')).catch((e) => {
  console.error(e)
  process.exit(1)
})
