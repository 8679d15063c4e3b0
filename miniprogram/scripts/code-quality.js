// WeChat's own code-quality check (miniprogram-ci's checkCodeQuality, what DevTools' 代码质量
// panel runs) over a project folder; prints the results as JSON and exits 1 if any fails.
//   node scripts/code-quality.js build/release
// Offline: the check reads no private key (miniprogram-ci's constructor wants one anyway).
const fs = require('fs')
const path = require('path')

async function main(dir) {
  const print = process.stdout.write.bind(process.stdout)
  console.log = console.error // miniprogram-ci chats on stdout (from require on): keep stdout for the result
  const ci = require('miniprogram-ci')
  const projectPath = path.resolve(dir)
  const { appid } = JSON.parse(fs.readFileSync(path.join(projectPath, 'project.config.json'), 'utf8'))
  const project = new ci.Project({ appid, type: 'miniProgram', projectPath, privateKey: 'unused-by-checkCodeQuality', ignores: ['node_modules/**/*'] })
  const results = await ci.checkCodeQuality(project)
  print(`${JSON.stringify(results.map(({ name, success, text, detail }) => ({ name, success, text, detail })), null, 2)}\n`)
  return results.every((r) => r.success)
}

main(process.argv[2] || 'build/release').then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(e)
    process.exit(2)
  },
)
