// Trial and release builds send only registered document ids: each id is the sha256 of the
// document the page would send, and the BFF's manifest (bff/web/persisted-documents.json) has it.
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')

const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../bff/web/persisted-documents.json'), 'utf8'))

function withEnv(envVersion, fn) {
  const sent = []
  global.wx = {
    getAccountInfoSync: () => ({ miniProgram: { envVersion } }),
    getStorageSync: () => '',
    request: (o) => {
      sent.push(o.data)
      o.success({ statusCode: 200, data: { data: {} } })
    },
  }
  jest.isolateModules(() => fn(require('../dist/lib/http'), require('../dist/graphql')))
  return sent
}

test.each(['release', 'trial'])('a %s build sends a registered documentId for every document', async (env) => {
  let documents = {}
  const sent = withEnv(env, (http, graphql) => {
    documents = graphql.ALL_DOCUMENTS
    for (const text of Object.values(documents)) http.post(text, { x: 1 })
  })
  expect(sent).toHaveLength(Object.keys(documents).length)
  Object.values(documents).forEach((text, i) => {
    const id = 'sha256:' + crypto.createHash('sha256').update(text, 'utf8').digest('hex')
    expect(sent[i]).toEqual({ documentId: id, variables: { x: 1 } })
    expect(manifest[id]).toBe(text)
  })
})

test('the developer build sends the document text (for a local bff demo)', () => {
  const sent = withEnv('develop', (http, graphql) => http.post(graphql.ALL_DOCUMENTS.ME, {}))
  expect(sent[0].query).toContain('query Me')
  expect(sent[0].documentId).toBeUndefined()
})
