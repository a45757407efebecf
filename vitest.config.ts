import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    // End-to-end tests start real stau processes and worker threads.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
