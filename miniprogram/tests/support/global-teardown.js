// jest globalTeardown: stop the demo BFF this run started (by its own handle only).
const fs = require('fs')
const path = require('path')

/** What the demo BFF logged at ERROR (with its traceback), printed for whoever reads the run. */
function reportErrors(logFile) {
  if (!fs.existsSync(logFile)) return
  const lines = fs.readFileSync(logFile, 'utf8').split('\n')
  const start = lines.findIndex((l) => /"level": "error"|Traceback/.test(l))
  if (start < 0) return
  const count = lines.filter((l) => /"level": "error"/.test(l)).length
  console.error(`the demo BFF logged ${count} error(s); the first:\n${lines.slice(start, start + 60).join('\n')}`)
}

/** Requests of people the demo BFF refused as overloaded, by reason (none on an idle machine; the
 * tracking simulator's pushes shed at their own share, reason "push", are sent again and left out). */
async function reportRefusals(base) {
  try {
    const text = await (await fetch(`${base}/metrics`)).text()
    const refused = text.split('\n').filter((l) => l.startsWith('bff_admission_rejected_total{') && !l.includes('reason="push"') && !/ 0(\.0)?$/.test(l))
    if (refused.length) console.error(`the demo BFF refused requests as overloaded:\n${refused.join('\n')}`)
  } catch (e) {
    console.error(`the demo BFF's metrics could not be read: ${e.message}`)
  }
}

module.exports = async () => {
  const child = globalThis.__MP_BFF__
  const file = process.env.MP_BFF_INFO
  if (file && fs.existsSync(file)) await reportRefusals(JSON.parse(fs.readFileSync(file, 'utf8')).base)
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
    if (child.exitCode === null) child.kill('SIGKILL')
  }
  if (file && fs.existsSync(file)) {
    const { cwd } = JSON.parse(fs.readFileSync(file, 'utf8'))
    fs.rmSync(file, { force: true })
    if (cwd) {
      reportErrors(path.join(cwd, 'bff.log'))
      fs.rmSync(cwd, { recursive: true, force: true })
    }
  }
}
