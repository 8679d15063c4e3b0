// Builds the package: tsc compiles src/**/*.ts, then the static files (wxml, wxss, json,
// images) are copied beside them.
//   node scripts/build.js              → dist/ (development values; what the tests load)
//   node scripts/build.js --release [--out DIR]
//                                      → DIR (default build/release): a project folder to upload
//     (project.config.json with the real appid, minification on; the package in miniprogram/
//     with the release values injected). Refuses to build while a placeholder is left.
const fs = require('fs')
const path = require('path')
const { execFileSync } = require('child_process')
const releaseConfig = require('./release-config')

const root = path.resolve(__dirname, '..')
const src = path.join(root, 'src')

function compile(out) {
  fs.rmSync(out, { recursive: true, force: true })
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json'), '--outDir', out], { stdio: 'inherit' })
  const copyStatic = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const from = path.join(dir, entry.name)
      if (entry.isDirectory()) copyStatic(from)
      else if (!entry.name.endsWith('.ts')) {
        const to = path.join(out, path.relative(src, from))
        fs.mkdirSync(path.dirname(to), { recursive: true })
        fs.copyFileSync(from, to)
      }
    }
  }
  copyStatic(src)
}

function release(outDir) {
  const config = releaseConfig.load()
  const problems = releaseConfig.problems(config)
  if (problems.length) {
    console.error(`refusing to build a release:\n${problems.map((p) => `  - ${p}`).join('\n')}\n(set them in release.config.json or MP_* variables: see docs/release.md)`)
    process.exit(2)
  }
  const pkg = path.join(outDir, 'miniprogram')
  fs.rmSync(outDir, { recursive: true, force: true })
  compile(pkg)
  // The same shape tsc gives src/build-config.ts, with the release values.
  const build = { release: true, transport: config.transport, bffUrl: config.bffUrl, container: config.container, templates: config.templates }
  fs.writeFileSync(path.join(pkg, 'build-config.js'), `"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\nexports.BUILD = ${JSON.stringify(build, null, 2)};\n`)
  const project = JSON.parse(fs.readFileSync(path.join(root, 'project.config.json'), 'utf8'))
  project.appid = config.appid
  project.miniprogramRoot = 'miniprogram/'
  project.setting = { ...project.setting, useCompilerPlugins: false, urlCheck: true, minified: true, minifyWXML: true, minifyWXSS: true }
  project.packOptions = { ignore: [], include: [] }
  fs.writeFileSync(path.join(outDir, 'project.config.json'), `${JSON.stringify(project, null, 2)}\n`)
  const bff = config.transport === 'container' ? `callContainer ${config.container.env}/${config.container.service}` : config.bffUrl
  console.log(`release build for ${config.appid} → ${path.relative(process.cwd(), outDir) || '.'} (BFF ${bff})`)
}

const args = process.argv.slice(2)
if (args.includes('--release')) {
  const at = args.indexOf('--out')
  release(path.resolve(at >= 0 ? args[at + 1] : path.join(root, 'build', 'release')))
} else {
  compile(path.join(root, 'dist'))
}
