// Builds dist/: tsc compiles src/**/*.ts, then the static files (wxml, wxss, json, images)
// are copied beside them, so dist/ is the package as WeChat would upload it.
const fs = require('fs')
const path = require('path')
const { execFileSync } = require('child_process')

const root = path.resolve(__dirname, '..')
const src = path.join(root, 'src')
const dist = path.join(root, 'dist')

fs.rmSync(dist, { recursive: true, force: true })
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], {
  stdio: 'inherit',
})

function copyStatic(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name)
    if (entry.isDirectory()) copyStatic(from)
    else if (!entry.name.endsWith('.ts')) {
      const to = path.join(dist, path.relative(src, from))
      fs.mkdirSync(path.dirname(to), { recursive: true })
      fs.copyFileSync(from, to)
    }
  }
}
copyStatic(src)
