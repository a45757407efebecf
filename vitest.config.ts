import { defineConfig } from "vitest/config";

export default defineConfig({
  // JSX through React's plain runtime, as tsc builds it for `stau dev`: it works with both of
  // React's builds, and one test file (test/ui/memory.test.tsx) loads the production build.
  oxc: { jsx: { runtime: "automatic", development: false } },
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    globalSetup: ["test/helpers/pg-global-setup.ts"],
    // End-to-end tests start real stau processes and worker threads.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Ink renders only a final frame when it sees CI set (is-in-ci); the console's tests
    // are about interactive frames, so they run as on a developer's machine.
    env: { CI: "false" },
  },
});
