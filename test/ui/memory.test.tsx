import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, expect, test } from "vitest";
import type { EngineEventEntry } from "../../src/ui/actions.js";
import type { ConsoleStore } from "../../src/ui/console-store.js";
import { MAX_FINISHED_RUNS } from "../../src/console/held-runs.js";
import { chunk, fakeController, job, NOW, run, snapshot } from "./fixtures.js";
import { eventually } from "./frames.js";

// What the console no longer shows it must let go of: a long `stau dev` sees millions of
// chunk records. Checked with a real collection: the record is gone once nothing holds it.
// React's production build, as `stau dev` loads it (console/session.ts): the development
// build keeps more for its own checks. React picks its build when first imported.
const userNodeEnv = process.env.NODE_ENV;
process.env.NODE_ENV = "production";
const [{ createElement }, { render }, { App }, { createConsoleStore }] = await Promise.all([import("react"), import("ink-testing-library"), import("../../src/ui/App.js"), import("../../src/ui/console-store.js")]);
process.env.NODE_ENV = userNodeEnv;
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as () => void;

const open: { store: ConsoleStore; unmount: () => void }[] = [];
afterEach(() => open.splice(0).forEach(({ store, unmount }) => (store.close(), unmount())));

/** A finished run's records as its events bring them. */
function finishedRun(id: string, at: number): EngineEventEntry[] {
  const records = [chunk(id, "a", 0, "running")];
  return [
    { name: "run:started", payload: { run: run(id, "a"), records, chunks: 1 } } as EngineEventEntry,
    { name: "chunk:done", payload: { chunk: chunk(id, "a", 0, "done", { finishedAt: at }), durationMs: 1 } },
    { name: "run:finished", payload: { run: run(id, "a", "done", { finishedAt: at }) } } as EngineEventEntry,
  ];
}

test("lets go of the chunk records of runs that left its window, however it started", async () => {
  // Made here and dropped: only the console can keep the first snapshot's record alive.
  const { store, record } = (() => {
    const first = chunk("f0", "a", 0, "done", { finishedAt: NOW - 60_000 });
    const initial = snapshot({ jobs: [job("a")], runs: [{ run: run("f0", "a", "done", { finishedAt: NOW - 60_000 }), chunks: [first] }] });
    const controller = fakeController(initial);
    controller.current = snapshot({ jobs: [job("a")] });
    return { store: createConsoleStore(controller, { size: { rows: 30, columns: 120 }, snapshot: initial, now: () => NOW }), record: new WeakRef(first) };
  })();
  const app = render(createElement(App, { store }));
  open.push({ store, unmount: app.unmount });
  store.start();
  await eventually(() => expect(app.lastFrame()).toContain("Jobs 1"));
  // A hundred and one newer runs finish, one frame each: f0 leaves the window.
  for (let i = 1; i <= MAX_FINISHED_RUNS + 1; i++) {
    store.dispatch({ type: "events", events: finishedRun(`n${i}`, NOW + i), at: NOW + i });
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(store.getState().data.runs.has("f0")).toBe(false);
  for (let i = 0; i < 3; i++) {
    collect();
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(record.deref()).toBeUndefined();
});
