// jest globalSetup: one demo BFF for the whole run; its addresses go to the tests
// through a file (workers do not share memory with this process).
const fs = require('fs')
const os = require('os')
const path = require('path')
const { startDemo } = require('./bff')

module.exports = async () => {
  const { child, info } = await startDemo()
  globalThis.__MP_BFF__ = child
  // Its log goes to a file: the teardown reports what it logged as an error, so a suite that
  // failed on the BFF's side shows the BFF's own account of it.
  const log = fs.createWriteStream(path.join(info.cwd, 'bff.log'))
  child.stdout.pipe(log)
  child.stderr.pipe(log)
  const file = path.join(os.tmpdir(), `mp-bff-${process.pid}.json`)
  fs.writeFileSync(file, JSON.stringify(info))
  process.env.MP_BFF_INFO = file
}
