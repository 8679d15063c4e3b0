// Draws the tab bar icons (our own simple SVG shapes) to 81×81 PNGs with the system's
// headless Chromium: src/images/tab-*.png, grey and primary-blue variants for each theme
// (theme.json names them per theme: a tab bar icon is a picture, not tinted by WeChat). Run
// once when the icons change; the PNGs are committed (WeChat's tab bar takes PNG only).
const path = require('path')
const { chromium } = require('playwright-core')

const OUT = path.resolve(__dirname, '../src/images')
const SHAPES = {
  home: '<path d="M12 40 L40 16 L68 40" /><path d="M20 34 V64 H60 V34" /><path d="M34 64 V48 H46 V64" />',
  messages: '<rect x="12" y="18" width="56" height="40" rx="8" /><path d="M14 22 L40 42 L66 22" />',
  profile: '<circle cx="40" cy="28" r="13" /><path d="M14 66 C16 50 28 44 40 44 C52 44 64 50 66 66" />',
}
// theme.json's tabColor and tabSelected, light then dark (tests/layout.test.js checks the contrast).
const COLORS = { '': '#6B6B6B', '-active': '#0958D9', '-dark': '#A6A6A6', '-dark-active': '#3C9AE8' }
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync']

async function main() {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ARGS })
  try {
    const page = await browser.newPage({ viewport: { width: 81, height: 81 } })
    for (const [name, shape] of Object.entries(SHAPES)) {
      for (const [suffix, color] of Object.entries(COLORS)) {
        const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="81" height="81" viewBox="0 0 80 80" fill="none" stroke="${color}" stroke-width="5" stroke-linecap="round" stroke-linejoin="round">${shape}</svg>`
        await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`)
        await page.screenshot({ path: path.join(OUT, `tab-${name}${suffix}.png`), omitBackground: true, clip: { x: 0, y: 0, width: 81, height: 81 } })
      }
    }
  } finally {
    await browser.close()
  }
}

module.exports = { COLORS, SHAPES }

if (require.main === module) {
  main().catch((e) => {
    console.error(e)
    process.exit(1)
  })
}
