// Photographs build/screens/*.html (rendered by tests/screens/render.screen.js) in the
// system's headless Chromium; never downloads a browser. Output: ../docs/screenshots/.
const fs = require('fs')
const path = require('path')
const { chromium } = require('playwright-core')

const IN = path.resolve(__dirname, '../build/screens')
const OUT = path.resolve(__dirname, '../../docs/screenshots')
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync']

async function main() {
  fs.mkdirSync(OUT, { recursive: true })
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  try {
    const page = await browser.newPage({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2 })
    for (const name of ['login', 'home', 'order', 'messages', 'messages-settings', 'profile']) {
      await page.goto(`file://${path.join(IN, `${name}.html`)}`)
      const file = path.join(OUT, `miniprogram-${name}.png`)
      // The order detail is long: show it whole; the others are one phone screen.
      await page.screenshot({ path: file, fullPage: name === 'order' })
      console.log(`wrote ${path.relative(process.cwd(), file)}`)
    }
    // Dark mode: the same page with prefers-color-scheme: dark (app.wxss's CSS variables).
    const dark = await browser.newPage({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, colorScheme: 'dark' })
    await dark.goto(`file://${path.join(IN, 'home.html')}`)
    await dark.screenshot({ path: path.join(OUT, 'miniprogram-home-dark.png') })
    console.log('wrote dark home')
  } finally {
    await browser.close()
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
