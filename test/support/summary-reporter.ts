import type { Reporter, TestModule } from "vitest/node"

/**
 * Prints one line at the end of the run, `N passed, N failed` (and `, N skipped` when any), which CI reads.
 * A file or suite that fails outside any test (a failing beforeAll, an import error) counts as one failure,
 * and so does each unhandled error, so a broken run can never print `0 failed`.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>) {
    let passed = 0
    let failed = 0
    let skipped = 0
    for (const module of testModules) {
      let failedHere = 0
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === "passed") passed++
        else if (state === "failed") failedHere++
        else skipped++
      }
      const suiteErrors =
        module.errors().length + [...module.children.allSuites()].filter((suite) => suite.errors().length > 0).length
      if (failedHere === 0 && (suiteErrors > 0 || module.state() === "failed")) failedHere = Math.max(1, suiteErrors)
      failed += failedHere
    }
    failed += unhandledErrors.length
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}\n`)
  }
}
