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

async function main(dir, buttons) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  const result = { widths: {}, contrast: {} }
  try {
    for (const scheme of ['light', 'dark']) {
      const page = await browser.newPage({ viewport: { width: 375, height: 812 }, colorScheme: scheme })
      for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.html')).map((f) => f.slice(0, -5))) {
        await page.goto(`file://${path.join(dir, `${name}.html`)}`)
        result.contrast[`${name}/${scheme}`] = await page.evaluate(contrastInPage)
        if (scheme === 'light' && buttons[name]) result.widths[name] = await page.evaluate(widthsInPage, buttons[name])
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
