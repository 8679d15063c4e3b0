// The main package (everything WeChat uploads: compiled JS, WXML, WXSS, JSON) must stay
// under 400 KB, well below WeChat's 2 MB limit, so the first screen downloads fast.
const fs = require('fs')
const path = require('path')

const LIMIT = 400 * 1024

function size(dir) {
  let total = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    total += e.isDirectory() ? size(p) : fs.statSync(p).size
  }
  return total
}

test('main package ≤ 400 KB (subpackages apart: WeChat downloads them when first opened)', () => {
  const dist = path.resolve(__dirname, '../dist')
  const app = JSON.parse(fs.readFileSync(path.join(dist, 'app.json'), 'utf8'))
  const subpackages = (app.subPackages || []).map((p) => size(path.join(dist, p.root)))
  const bytes = size(dist) - subpackages.reduce((a, b) => a + b, 0)
  console.log(`main package: ${(bytes / 1024).toFixed(1)} KB (${bytes} bytes) in dist/; subpackages ${subpackages.join(', ')} bytes`)
  expect(subpackages.every((b) => b > 0)).toBe(true)
  expect(bytes).toBeGreaterThan(10 * 1024) // the build really ran
  expect(bytes).toBeLessThanOrEqual(LIMIT)
})

test('no test or tooling file leaks into the package', () => {
  const files = []
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : files.push(e.name)))
  walk(path.resolve(__dirname, '../dist'))
  expect(files.filter((f) => !/\.(js|json|wxml|wxss|png|jpg|svg)$/.test(f))).toEqual([])
})
