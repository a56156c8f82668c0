import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    // The suite spawns the built CLI and runs explorations: give slow shared machines room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
