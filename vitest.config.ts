import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The heavy ones (the whole gate) run apart: `npm run test:slow` (vitest.slow.config.ts).
    exclude: ["test/**/*.slow.test.ts", "**/node_modules/**"],
    reporters: ["default", "./test/summary-reporter.ts"],
    // The suite spawns the built CLI and runs explorations: give slow shared machines room.
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
