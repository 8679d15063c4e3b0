// Renders the main pages with real demo data into build/screens/*.html;
// scripts/screenshots.js then photographs them in Chromium.
const fs = require('fs')
const path = require('path')
const { installWx } = require('../support/wx-shim')
const { PAGES, renderScreens } = require('../support/screens')

const OUT = path.resolve(__dirname, '../../build/screens')

test('render the main pages with demo data', async () => {
  const pages = await renderScreens(installWx(), OUT)
  for (const n of PAGES) expect(fs.existsSync(path.join(OUT, `${n}.html`))).toBe(true)
  expect(pages.messages.data.items.length).toBeGreaterThan(0)
  expect(pages.profile.data.nickname).toBe('王采购')
})
