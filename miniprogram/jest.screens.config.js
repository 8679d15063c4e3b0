// Only for `npm run screenshots`: renders pages to HTML against a demo BFF.
const base = require('./jest.config')

module.exports = { ...base, testMatch: ['<rootDir>/tests/screens/*.screen.js'] }
