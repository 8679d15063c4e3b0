// jest globalTeardown: stop the demo BFF this run started (by its own handle only).
const fs = require('fs')

module.exports = async () => {
  const child = globalThis.__MP_BFF__
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
    if (child.exitCode === null) child.kill('SIGKILL')
  }
  const file = process.env.MP_BFF_INFO
  if (file && fs.existsSync(file)) {
    const { cwd } = JSON.parse(fs.readFileSync(file, 'utf8'))
    fs.rmSync(file, { force: true })
    if (cwd) fs.rmSync(cwd, { recursive: true, force: true })
  }
}
