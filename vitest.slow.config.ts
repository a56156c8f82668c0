// `npm run test:slow`: the heavy tests, apart from `npm test` (the whole gate, its reports
// validated). Their timeouts leave room for a loaded 2-core machine.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.slow.test.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
  },
});
