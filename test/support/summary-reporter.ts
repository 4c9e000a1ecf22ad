import type { Reporter, TestCase, TestModule } from "vitest/node"

/** Whether a suite around the test failed on its own (a throwing beforeAll/afterAll), which skips its tests. */
function failedAround(test: TestCase): boolean {
  let parent = test.parent
  for (;;) {
    if (parent.errors().length > 0) return true
    if (parent.type === "module") return false
    parent = parent.parent
  }
}

/**
 * Prints one line at the end of the run, `N passed, N failed` (and `, N skipped` when any), which CI reads.
 * A test skipped because a hook around it failed counts as failed; a file that fails outside any test (an
 * import error) counts as one failure, and so does each unhandled error, so a broken run never prints `0 failed`.
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
        else if (state === "failed" || failedAround(test)) failedHere++
        else skipped++
      }
      if (failedHere === 0 && (module.errors().length > 0 || module.state() === "failed")) failedHere = 1
      failed += failedHere
    }
    failed += unhandledErrors.length
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}\n`)
  }
}
