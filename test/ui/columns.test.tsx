import { render } from "ink-testing-library";
import { afterEach, describe, expect, test } from "vitest";
import { App } from "../../src/ui/App.js";
import { createConsoleStore, type ConsoleStore } from "../../src/ui/console-store.js";
import type { ConsoleSnapshot } from "../../src/console/contract.js";
import { chunk, fakeController, job, NOW, run, snapshot } from "./fixtures.js";
import { eventually, plain } from "./frames.js";

// What a newcomer reads at 120 columns and up: every value whole, ages in one format,
// counts that say what they count, and the scheduler's state wherever it matters.

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const failedError = { message: "feature store timed out", kind: "error" as const };

/** The example pipeline an hour in: a run in flight with a retry and a claim ahead, and every way a last run can end. */
const pipeline: ConsoleSnapshot = snapshot({
  instance: "me",
  workers: 2,
  jobs: ["anomaly_scores", "clean_measurements", "daily_stats", "ingest_measurements", "unit_registry", "weekly_report"].map((name) => job(name)),
  runs: [
    {
      run: run("r5", "ingest_measurements"),
      chunks: [
        chunk("r5", "ingest_measurements", 12, "running", { worker: 2, attempts: 2, startedAt: NOW - 83 * S, workIds: Array.from({ length: 50 }, (_, i) => 551 + i) }),
        chunk("r5", "ingest_measurements", 13, "running", { worker: null, owner: "me", workIds: Array.from({ length: 50 }, (_, i) => 601 + i) }),
        chunk("r5", "ingest_measurements", 14, "queued", { attempts: 2, notBefore: NOW + 3 * S, workIds: Array.from({ length: 50 }, (_, i) => 651 + i) }),
        chunk("r5", "ingest_measurements", 15, "pending", { workIds: Array.from({ length: 50 }, (_, i) => 701 + i) }),
      ],
    },
    { run: run("r4", "clean_measurements", "cancelled"), chunks: [chunk("r4", "clean_measurements", 0, "cancelled", { finishedAt: NOW - 23 * S })] },
    { run: run("r3", "daily_stats", "failed"), chunks: [chunk("r3", "daily_stats", 0, "upstream_failed", { finishedAt: NOW - 42 * M })] },
    { run: run("r2", "anomaly_scores", "failed"), chunks: [chunk("r2", "anomaly_scores", 0, "failed", { finishedAt: NOW - 4 * M, attempts: 4, error: failedError })] },
    { run: run("r1", "unit_registry", "done"), chunks: [chunk("r1", "unit_registry", 0, "done", { finishedAt: NOW - 2 * H })] },
  ],
  nextFires: { anomaly_scores: NOW + 89 * M, daily_stats: NOW + 23 * H, unit_registry: NOW + 4 * H, weekly_report: NOW + 6 * 24 * H },
  lastSuccess: { clean_measurements: NOW - 59 * M, daily_stats: NOW - 23 * H, unit_registry: NOW - 2 * H, ingest_measurements: NOW - 3 * 24 * H },
});

const open: { store: ConsoleStore; unmount: () => void }[] = [];
afterEach(() => open.splice(0).forEach(({ store, unmount }) => (store.close(), unmount())));

async function mount(s: ConsoleSnapshot, columns: number, rows = 40) {
  const controller = fakeController(s);
  controller.busy = 1;
  const store = createConsoleStore(controller, { size: { rows, columns }, snapshot: s, now: () => NOW });
  const app = render(<App store={store} />);
  open.push({ store, unmount: app.unmount });
  store.start();
  await eventually(() => expect(store.getState().logs.request).toBeNull());
  const text = () => plain(app.lastFrame());
  if (s === pipeline) {
    store.dispatch({ type: "events", events: [{ name: "chunk:progress", payload: { chunkId: "r5.ingest_measurements.12", done: 725, total: 1000 } }], at: NOW });
    await eventually(() => expect(text()).toContain("725/1000"));
  }
  return { controller, store, text, lines: () => text().split("\n") };
}

/** The frame from where `start` matches in a row to the end of that row. */
const row = (lines: string[], start: string | RegExp) => {
  const pattern = typeof start === "string" ? new RegExp(start.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : start;
  const line = lines.find((l) => pattern.test(l));
  expect(line, `a row with ${start}`).toBeDefined();
  return line!.slice(line!.search(pattern));
};

describe.each([120, 160, 200])("at %i columns", (columns) => {
  test("Jobs: every name, state, last run, next fire and age whole", async () => {
    const { lines } = await mount(pipeline, columns);
    const jobs = (name: string) => row(lines(), `${name} `).replace(/\s+/g, " ");
    expect(jobs("anomaly_scores")).toMatch(/^anomaly_scores failed failed 4m ago in 1h never/);
    expect(jobs("clean_measurements")).toMatch(/^clean_measurements idle cancelled 23s ago - 59m ago/);
    expect(jobs("daily_stats")).toMatch(/^daily_stats idle upstream 42m ago in 23h 23h ago/);
    expect(jobs("ingest_measurements")).toMatch(/^ingest_measurements running never - 3d ago/);
    expect(jobs("unit_registry")).toMatch(/^unit_registry idle ok 2h ago in 4h 2h ago/);
    expect(jobs("weekly_report")).toMatch(/^weekly_report idle never in 6d never/);
  });

  test("Queue and Running: chunk, attempt, work IDs, retry countdown, elapsed time and progress whole", async () => {
    const { lines, text } = await mount(pipeline, columns);
    expect(row(lines(), /claimed +ingest/)).toMatch(/^claimed\s+ingest_measurements\.13 \[601…650\] \(50\)/);
    expect(row(lines(), /queued +ingest/)).toMatch(/^queued\s+ingest_measurements\.14#3 \[651…700\] \(50\) retry in 3s/);
    expect(row(lines(), /pending +ingest/)).toMatch(/^pending\s+ingest_measurements\.15 \[701…750\] \(50\)/);
    expect(row(lines(), "w2 ")).toMatch(/^w2\s+ingest_measurements\.12#2\s+1m\s+█+░+ 725\/1000/);
    expect(text()).toContain("Running 1 · workers 1/2 · 1 claimed ahead (Queue)");
  });

  test("nothing in Jobs, Queue, Running or the header is cut", async () => {
    const { lines } = await mount(pipeline, columns);
    // The failure message is short here: past work ID ranges ([601…650]), an ellipsis is a cut value.
    expect(lines().filter((l) => l.replace(/\[\d+…\d+\]/g, "").includes("…"))).toEqual([]);
    expect(lines().every((l) => l.length <= columns)).toBe(true);
  });
});

describe("the header says what it counts", () => {
  test("chunks of active runs, apart from failures of recent runs and broken jobs", async () => {
    const { lines } = await mount(pipeline, 120);
    expect(lines()[1]).toBe("chunks of active runs: 1 running · 1 claimed · 1 pending · 1 queued · 0 done │ failed in recent runs: 1 chunk");
  });

  test("after every run ended: no chunk counts of 0 beside a count of failures, but none, and where the failures are", async () => {
    const ended = snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a", "failed"), chunks: [0, 1, 2].map((i) => chunk("r1", "a", i, "failed", { error: failedError })) }] });
    const { lines } = await mount(ended, 120);
    expect(lines()[1]).toBe("chunks of active runs: none │ failed in recent runs: 3 chunks");
  });

  test("draining says draining, not on; and Jobs stops counting down to fires that will not come", async () => {
    const { store, lines, text } = await mount(pipeline, 120);
    expect(lines()[0]).toContain("· scheduler on");
    store.dispatch({ type: "events", events: [{ name: "instance:draining", payload: { running: 1, timeoutMs: 30_000 } }], at: NOW });
    await eventually(() => expect(lines()[0]).toContain("· draining: nothing new starts ·"));
    expect(lines()[0]).not.toContain("scheduler on");
    expect(row(lines(), "anomaly_scores ")).toMatch(/^anomaly_scores\s+failed\s+failed 4m ago\s+-\s+never/);
    expect(text()).not.toMatch(/in 1h|in 23h|in 6d/);
  });

  test("draining fits the first line beside a store path; a path too long for it is what gets cut", async () => {
    const draining = async (path: string) => {
      const { store, lines } = await mount({ ...pipeline, project: "sensor-pipeline", store: path }, 120);
      store.dispatch({ type: "events", events: [{ name: "instance:draining", payload: { running: 1, timeoutMs: 30_000 } }], at: NOW });
      await eventually(() => expect(lines()[0]).toContain("draining"));
      return lines()[0];
    };
    expect(await draining("/home/ana/sensor-pipeline/data")).toBe("stau sensor-pipeline · workers 1/2 · draining: nothing new starts · up 1h · store /home/ana/sensor-pipeline/data");
    expect(await draining("/home/ana/projects/clients/acme/sensor-pipeline/data")).toMatch(/^stau sensor-pipeline · workers 1\/2 · draining: nothing new starts · up 1h · store \/home\/ana\/projects\/clients\S*…$/);
  });

  test("paused says paused in the header and in every job's next fire", async () => {
    const { store, lines, text } = await mount(pipeline, 120);
    store.dispatch({ type: "command", command: { type: "pause" } });
    await eventually(() => expect(lines()[0]).toContain("· scheduler paused"));
    expect(row(lines(), "anomaly_scores ")).toMatch(/^anomaly_scores\s+failed\s+failed 4m ago\s+paused\s+never/);
    expect(row(lines(), "weekly_report ")).toMatch(/^weekly_report\s+idle\s+never\s+paused\s+never/);
    expect(row(lines(), "clean_measurements ")).toMatch(/^clean_measurements\s+idle\s+cancelled 23s ago\s+-/);
    expect(text()).not.toMatch(/in 1h|in 23h|in 6d/);
  });
});
