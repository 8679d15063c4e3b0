// Every GraphQL document the mini program sends must validate against the BFF's schema.
// Two checks: against the committed schema.graphql (the contract), and against the live
// demo BFF's introspected schema (what is actually running).
const fs = require('fs')
const path = require('path')
const { buildClientSchema, buildSchema, getIntrospectionQuery, parse, validate } = require('graphql')
const { ALL_DOCUMENTS } = require('../dist/graphql')
const { httpJson, bffInfo } = require('./support/wx-shim')

// Documents using fields that the notifications and monitoring work adds to the BFF but
// that are not yet in the committed schema.graphql. They must still validate against the
// running BFF (below). Remove a name here once schema.graphql has its fields.
const AWAITING_SCHEMA_EXPORT = new Set([
  'HOME', 'SYSTEM_STATUS', 'MONITORING',
  'RECORD_SUBSCRIPTIONS', 'MESSAGES', 'MARK_MESSAGE_READ', 'NOTIFICATION_SETTINGS', 'UPDATE_NOTIFICATION_SETTINGS',
])

const committed = buildSchema(fs.readFileSync(path.resolve(__dirname, '../../schema.graphql'), 'utf8'))
const names = Object.keys(ALL_DOCUMENTS)

test('there are documents, each one named operation', () => {
  expect(names.length).toBeGreaterThanOrEqual(15)
  for (const name of names) {
    const ops = parse(ALL_DOCUMENTS[name]).definitions.filter((d) => d.kind === 'OperationDefinition')
    expect(ops).toHaveLength(1)
    expect(ops[0].name && ops[0].name.value).toBeTruthy()
  }
})

test.each(names)('%s validates against schema.graphql', (name) => {
  const errors = validate(committed, parse(ALL_DOCUMENTS[name])).map((e) => e.message)
  if (AWAITING_SCHEMA_EXPORT.has(name)) {
    // Allowed to fail only because fields are missing from the committed schema.
    for (const m of errors) expect(m).toMatch(/^Cannot query field|^Unknown type/)
  } else {
    expect(errors).toEqual([])
  }
})

test('every document validates against the running BFF', async () => {
  const res = await httpJson('POST', `${bffInfo().graphql}`, { query: getIntrospectionQuery() })
  const live = buildClientSchema(res.data.data)
  const failures = {}
  for (const name of names) {
    const errors = validate(live, parse(ALL_DOCUMENTS[name])).map((e) => e.message)
    if (errors.length) failures[name] = errors
  }
  expect(failures).toEqual({})
})
