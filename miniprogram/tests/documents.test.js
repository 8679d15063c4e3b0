// Every GraphQL document the mini program sends must validate against the BFF's schema.
// Two checks: against the committed schema.graphql (the contract), and against the live
// demo BFF's introspected schema (what is actually running).
const fs = require('fs')
const path = require('path')
const { buildClientSchema, buildSchema, getIntrospectionQuery, parse, validate } = require('graphql')
const { ALL_DOCUMENTS } = require('../dist/graphql')
const { httpJson, bffInfo } = require('./support/wx-shim')

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
  expect(validate(committed, parse(ALL_DOCUMENTS[name])).map((e) => e.message)).toEqual([])
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
