import { render } from "ink-testing-library";
import { test } from "vitest";
import { App } from "../../src/ui/App.js";
import { createConsoleStore } from "../../src/ui/console-store.js";
import { bigSnapshot, chunk, fakeController, job, run, snapshot, NOW } from "./fixtures.js";

test("smoke", async () => {
  const snap = snapshot({
    jobs: [job("daily_stats"), job("clean_measurements"), job("broken_one", { broken: "jobs/broken_one.ts:3 SyntaxError: Unexpected token", problems: ["jobs/broken_one.ts:3 SyntaxError: Unexpected token"] })],
    runs: [
      { run: run("r1", "daily_stats"), chunks: [chunk("r1", "daily_stats", 0, "running"), chunk("r1", "daily_stats", 1, "queued"), chunk("r1", "clean_measurements", 0, "failed", { error: { message: "boom: db down\nmore", kind: "error", stack: "Error: boom\n  at x" } })] },
    ],
    nextFires: { daily_stats: NOW + 300_000 },
    lastSuccess: { clean_measurements: NOW - 600_000 },
  });
  for (const [rows, columns, s] of [[30, 140, snap], [24, 80, snap], [10, 80, snap], [40, 160, bigSnapshot(2000, 20000)]] as const) {
    const controller = fakeController(s);
    const store = createConsoleStore(controller, { size: { rows, columns }, now: () => NOW });
    const app = render(<App store={store} />);
    store.start();
    await new Promise((r) => setTimeout(r, 50));
    console.log(`---- ${rows}x${columns}\n` + app.lastFrame() + "\n----", app.lastFrame()!.split("\n").length);
    store.close();
    app.unmount();
  }
});
