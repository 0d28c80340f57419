/** Prints the closing line CI reads: `N passed, N failed, N skipped`. */
import type { Reporter, TestModule, TestSuite } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      // A file that failed to load, or a hook (beforeAll/afterAll) that failed: its tests show as
      // skipped, so the failure is counted here or the line would say "0 failed" for a red run.
      const broken: Array<TestModule | TestSuite> = [mod, ...mod.children.allSuites()];
      failed += broken.filter((s) => s.errors().length > 0).length;
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0 && mod.errors().length === 0) failed++;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
