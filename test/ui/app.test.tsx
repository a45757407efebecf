import { render } from "ink-testing-library";
import { afterEach, describe, expect, test, vi } from "vitest";
import { App } from "../../src/ui/App.js";
import { createConsoleStore, type ConsoleStore } from "../../src/ui/console-store.js";
import type { ConsoleSnapshot } from "../../src/console/contract.js";
import { bigSnapshot, chunk, fakeController, job, NOW, run, snapshot } from "./fixtures.js";
import { eventually, plain } from "./frames.js";

const demo = snapshot({
  jobs: [job("daily_stats"), job("clean_measurements"), job("unit_registry", { broken: "jobs/unit_registry.ts:4 SyntaxError: Unexpected token", problems: ["jobs/unit_registry.ts:4 SyntaxError: Unexpected token"] })],
  runs: [
    {
      run: run("r1", "daily_stats"),
      chunks: [
        chunk("r1", "daily_stats", 0, "running"),
        chunk("r1", "daily_stats", 1, "queued"),
        chunk("r1", "clean_measurements", 0, "failed", { error: { message: "connection refused: db:5432\nat second line", kind: "error" } }),
      ],
    },
  ],
});

const open: { store: ConsoleStore; unmount: () => void }[] = [];
afterEach(() => open.splice(0).forEach(({ store, unmount }) => (store.close(), unmount())));

async function mount(s: ConsoleSnapshot, rows: number, columns: number) {
  const controller = fakeController(s);
  const store = createConsoleStore(controller, { size: { rows, columns }, snapshot: s, now: () => NOW });
  const app = render(<App store={store} />);
  open.push({ store, unmount: app.unmount });
  store.start();
  // Mounted once the first log tail (the only answer a start waits for) is in.
  await eventually(() => expect(store.getState().logs.request).toBeNull());
  return { controller, store, lines: () => plain(app.lastFrame()).split("\n"), text: () => plain(app.lastFrame()) };
}

describe("App", () => {
  test("shows the jobs with their states, the header counts and a failure's first line", async () => {
    const { text } = await mount(demo, 30, 140);
    expect(text()).toMatch(/daily_stats\s+running/);
    expect(text()).toMatch(/clean_measurements\s+failed/);
    expect(text()).toMatch(/unit_registry\s+broken/);
    expect(text()).toContain("chunks of active runs: 1 running · 0 pending · 1 queued · 0 done · 1 failed │ failed in recent runs: 1 chunk │ broken jobs: 1");
    expect(text()).toContain("connection refused: db:5432");
    expect(text()).not.toContain("at second line");
    expect(text()).toContain("? help");
  });

  test.each([
    [40, 160], [30, 140], [24, 80], [16, 80], [10, 60], [5, 40], [3, 30],
  ])("at %i×%i the frame has fewer lines than the terminal", async (rows, columns) => {
    const { lines } = await mount(demo, rows, columns);
    expect(lines().length).toBeLessThan(rows);
    expect(lines().length).toBeGreaterThanOrEqual(Math.min(rows - 1, 1));
  });

  test("chunks waiting in their thread's batch are counted as claimed, and Running lists the ones begun", async () => {
    const batch = [0, 1, 2].map((i) => chunk("r1", "daily_stats", i, "running", { worker: 1, owner: "me" }));
    const s = snapshot({ instance: "me", jobs: [job("daily_stats")], runs: [{ run: run("r1", "daily_stats"), chunks: batch }] });
    const controller = fakeController(s, { threadsNow: () => ({ running: ["r1.daily_stats.1"], waiting: ["r1.daily_stats.2"] }) });
    controller.busy = 1;
    const store = createConsoleStore(controller, { size: { rows: 30, columns: 140 }, snapshot: s, now: () => NOW });
    const app = render(<App store={store} />);
    open.push({ store, unmount: app.unmount });
    store.start();
    await eventually(() => expect(plain(app.lastFrame())).toMatch(/Running 1 · workers 1\/\d+ · 1 waiting for a thread · 1 ended, being recorded/));
    const text = plain(app.lastFrame());
    // The ended one is running until its result is recorded.
    expect(text).toContain("chunks of active runs: 2 running · 1 claimed · 0 pending");
    expect(text).toMatch(/w1 +daily_stats\.1 /);
    expect(text).not.toMatch(/daily_stats\.[02] /);
  });

  test("a resize re-lays the frame to the new size", async () => {
    const { lines, store } = await mount(demo, 40, 160);
    expect(lines().length).toBe(39);
    store.dispatch({ type: "resize", rows: 12, columns: 70 });
    await eventually(() => expect(lines().length).toBe(11));
    expect(lines().every((l) => l.length <= 70)).toBe(true);
  });

  test("2,000 jobs and 20,000 chunks: only visible rows render", async () => {
    const { lines, store } = await mount(bigSnapshot(2000, 20_000), 40, 160);
    expect(lines().length).toBe(39);
    const jobRows = lines().filter((l) => /^[ ›] job_\d{4}\s+(running|queued|idle)/.test(l));
    const queueRows = lines().filter((l) => /queued\s+job_\d{4}\.\d+ \[/.test(l));
    expect(jobRows.length).toBeGreaterThan(5);
    expect(jobRows.length).toBeLessThan(40);
    expect(queueRows.length).toBeGreaterThan(5);
    expect(queueRows.length).toBeLessThan(40);
    expect(store.getState().views.queue.length).toBe(19_996);
    expect(lines().join("\n")).toContain("19996 queued");
  });

  test("pages through 20,000 queued chunks (speed: npm run bench)", async () => {
    const { store, text } = await mount(bigSnapshot(2000, 20_000), 40, 160);
    store.dispatch({ type: "command", command: { type: "next-pane" } });
    for (let i = 0; i < 200; i++) store.dispatch({ type: "command", command: { type: "page-down" } });
    await eventually(() => expect(text()).toMatch(/Queue 19996 · \d+\/19996/));
  });

  test("t shows the plan first, then Enter triggers through the controller", async () => {
    const { store, text, controller } = await mount(demo, 30, 120);
    store.dispatch({ type: "command", command: { type: "trigger" } });
    await eventually(() => expect(text()).toContain("Trigger daily_stats?"));
    expect(text()).toMatch(/clean_measurements\s+fresh/);
    expect(controller.calls.some((c) => c.name === "trigger")).toBe(false);
    store.dispatch({ type: "command", command: { type: "confirm" } });
    await eventually(() => expect(text()).toContain("triggered daily_stats: run r-new"));
    expect(controller.calls.find((c) => c.name === "trigger")?.args).toEqual(["daily_stats"]);
  });

  test("Enter on a failure opens the whole error; Esc goes back", async () => {
    const { store, text } = await mount(demo, 30, 120);
    for (const type of ["next-pane", "next-pane", "next-pane", "down", "open-error"] as const) store.dispatch({ type: "command", command: { type } });
    await eventually(() => expect(text()).toContain("chunk r1.clean_measurements.0 of clean_measurements failed"));
    expect(text()).toContain("at second line");
    store.dispatch({ type: "command", command: { type: "close" } });
    await eventually(() => expect(text()).toContain("Jobs 3"));
    expect(text()).not.toContain("at second line");
  });

  test("live events reach the frame (batched)", async () => {
    const { controller, store, text } = await mount(demo, 30, 140);
    controller.events.emit("chunk:log", { chunkId: "r1.daily_stats.0", attempt: 1, level: "info", text: "hello from the job" });
    controller.events.emit("chunk:progress", { chunkId: "r1.daily_stats.0", done: 1, total: 4 });
    // Batched: nothing is drawn per event; the buffer hands both over on its timer.
    expect(store.getState().logs.lines).toHaveLength(0);
    await eventually(() => expect(text()).toMatch(/\[daily_stats\.0#1\] hello from the job/));
    expect(text()).toMatch(/█+░+ 1\/4/);
  });

  test("a started run reaches the frame from its event alone: no snapshot is read", async () => {
    const { controller, text } = await mount(demo, 30, 140);
    const snapshots = vi.spyOn(controller, "snapshot");
    const records = [chunk("r2", "clean_measurements", 0, "queued"), chunk("r2", "clean_measurements", 1, "queued")];
    controller.events.emit("run:started", { run: run("r2", "clean_measurements"), chunks: 2, records });
    await eventually(() => expect(text()).toMatch(/3 queued/));
    expect(text()).toMatch(/queued\s+clean_measurements\.1/);
    expect(snapshots).not.toHaveBeenCalled();
  });
});
