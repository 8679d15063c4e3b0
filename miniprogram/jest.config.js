// Flow tests drive compiled pages (dist/) against a real `bff demo` started once per run.
module.exports = {
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/tests/**/*.test.js'],
  globalSetup: '<rootDir>/tests/support/global-setup.js',
  globalTeardown: '<rootDir>/tests/support/global-teardown.js',
  testTimeout: 30000,
  // The demo BFF's pipes keep the parent alive a moment after teardown stops it.
  forceExit: true,
}
