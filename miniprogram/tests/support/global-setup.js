// jest globalSetup: one demo BFF for the whole run; its addresses go to the tests
// through a file (workers do not share memory with this process).
const fs = require('fs')
const os = require('os')
const path = require('path')
const { startDemo } = require('./bff')

module.exports = async () => {
  const { child, info } = await startDemo()
  globalThis.__MP_BFF__ = child
  const file = path.join(os.tmpdir(), `mp-bff-${process.pid}.json`)
  fs.writeFileSync(file, JSON.stringify(info))
  process.env.MP_BFF_INFO = file
}
