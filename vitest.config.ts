import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Pure-logic test files: no server, no child process, no network (`npm run test:unit`, under 30 s).
// Every other file under test/ is in the e2e tier; `npm test` runs both.
const unit = [
  'test/architecture.test.ts',
  'test/query-statuses.test.ts',
  'test/command-parts.test.ts',
  'test/results-parts.test.ts',
  'test/sandbox/server-results.test.ts',
  'test/commands-schema.test.ts',
  'test/convert.test.ts',
  'test/foundation-unit.test.ts',
  'test/help-examples.test.ts',
  'test/labelexpr.test.ts',
  'test/lint-packs-sandbox.test.ts',
  'test/lint.test.ts',
  'test/results-format.test.ts',
  'test/results.test.ts',
  'test/results-memory.test.ts',
  'test/sandbox/hosts-data.test.ts',
  'test/sandbox/hosts-schedule.test.ts',
  'test/sandbox/store-members.test.ts',
  'test/schema-sql.test.ts',
  'test/specs-render.test.ts',
  'test/specs.test.ts',
  'test/untargeted.test.ts',
];

// The command-line smoke that CI also runs on Node 22: lint, apply, query and export against the sandbox.
export const smoke = ['test/demo-e2e.test.ts', 'test/lint-cli.test.ts', 'test/bundled-packs.test.ts', 'test/sqlite-unavailable.test.ts'];

const shared = {
  // End-to-end tests start real servers and child processes, in separate processes.
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    // End-to-end files spend much of their time waiting (on retries' backoff, timeouts, hosts'
    // check-ins), so twice as many workers as cores keeps the cores busy. On 2 cores, with one module
    // graph per worker (e2e's isolate: false, which makes a worker cheap): 3 workers 142–149 s,
    // 4 workers 127 s, 5 workers 124 s (1975 tests, 2026-12-08).
    maxWorkers: Math.max(2, availableParallelism() * 2),
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      { test: { ...shared, name: 'unit', include: unit } },
      // One module graph per worker, not per file: the end-to-end files import the sandbox and
      // much of src/, and re-importing it for each of ~55 files cost ~35 of the suite's ~285 CPU
      // seconds (isolated: 156 s; not: 142 s, same tests). What a file changes in a module's
      // state must not reach the next file: such a dependence is a bug in the product or the test.
      { test: { ...shared, name: 'e2e', include: ['test/**/*.test.ts'], exclude: [...unit, '**/node_modules/**'], isolate: false } },
      { test: { ...shared, name: 'smoke', include: smoke } },
    ],
  },
});
