import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/support/global-setup.ts"],
    // Every file starts real server processes (and wrangler dev for the worker); on a 2-core machine
    // two files at a time keep the machine busy without starving the servers under test.
    maxWorkers: 2,
    testTimeout: 30_000,
    // A target start may take two tries of up to 60 s each (test/support/targets.ts).
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
})
