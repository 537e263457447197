// Three projects: unit tests need no services; integration tests run against the real local
// stack (PostgreSQL, Redis, Kafka, SFTP), brought up by the global setup when it is not running;
// disruptive tests (*.disruptive.test.ts) kill or restart those servers, so `npm test` runs them
// in a dedicated run after the others, one file at a time (--runInBand): no other test is using
// the servers they take down.
const transform = {
  '^.+\\.(ts|js)$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
  ],
};
const roots = ['<rootDir>/packages', '<rootDir>/services'];
// ESM-only dependencies jest's CommonJS runtime cannot load as they are (fastify's
// light-my-request → cookie 2; bull-board's @fastify/static → content-disposition 3): compiled to CommonJS by swc like our own sources.
const transformIgnorePatterns = ['/node_modules/(?!(cookie|content-disposition)/)'];

module.exports = {
  // Integration tests wait on real servers; per-project testTimeout is not honoured by jest.
  testTimeout: 120000,
  projects: [
    {
      displayName: 'unit',
      roots,
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.int\\.test\\.ts$', '\\.disruptive\\.test\\.ts$'],
    },
    {
      displayName: 'integration',
      roots,
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
      testMatch: ['**/*.int.test.ts'],
      globalSetup: '<rootDir>/packages/testing/src/global-setup.ts',
    },
    {
      displayName: 'disruptive',
      roots,
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
      testMatch: ['**/*.disruptive.test.ts'],
      globalSetup: '<rootDir>/packages/testing/src/global-setup.ts',
    },
  ],
};
