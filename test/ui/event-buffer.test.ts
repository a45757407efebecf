import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Action, EngineEventEntry } from "../../src/ui/actions.js";
import { createConsoleStore } from "../../src/ui/console-store.js";
import { attachEventBuffer, createEventBuffer } from "../../src/ui/event-buffer.js";
import { EventBus, EVENT_NAMES } from "../../src/events.js";
import type { ConsoleSnapshot } from "../../src/console/contract.js";
import type { ChunkRecord, ChunkState } from "../../src/store/records.js";
import { DETAILED_CHUNKS } from "../../src/ui/summarized-runs.js";
import { chunk, deferred, fakeController, job, NOW, run, snapshot, type FakeController } from "./fixtures.js";

const log = (i: number): EngineEventEntry => ({ name: "chunk:log", payload: { chunkId: "c", attempt: 1, level: "info", text: `line ${i}` } });

describe("event buffer", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  test("a burst of events reaches the reducer as one batch after 100 ms", () => {
    const flushed: EngineEventEntry[][] = [];
    const buffer = createEventBuffer((batch) => flushed.push(batch));
    for (let i = 0; i < 500; i++) buffer.push(log(i));
    expect(flushed).toHaveLength(0);
    vi.advanceTimersByTime(99);
    expect(flushed).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(flushed).toHaveLength(1);
    expect(flushed[0]).toHaveLength(500);
  });

  test("a steady stream flushes at most ten times a second", () => {
    const flushed: EngineEventEntry[][] = [];
    const buffer = createEventBuffer((batch) => flushed.push(batch));
    for (let ms = 0; ms < 1000; ms++) {
      buffer.push(log(ms));
      vi.advanceTimersByTime(1);
    }
    expect(flushed.length).toBeLessThanOrEqual(10);
    expect(flushed.flat()).toHaveLength(1000);
  });

  test("a flood (thousands of events a second: a big run of short chunks) flushes twice a second; once it calms, ten times again", () => {
    const flushed: EngineEventEntry[][] = [];
    const buffer = createEventBuffer((batch) => flushed.push(batch));
    const stream = (ms: number, perMs: number) => {
      for (let i = 0; i < ms; i++) {
        for (let k = 0; k < perMs; k++) buffer.push(log(i));
        vi.advanceTimersByTime(1);
      }
    };
    stream(1000, 5);
    // The first batch comes after 100 ms, as ever; the flood's after 500 ms each.
    expect(flushed.length).toBeLessThanOrEqual(3);
    expect(flushed.length).toBeGreaterThanOrEqual(2);
    // A calm stream (a thousand a second) is back to ten batches a second after one slow batch.
    stream(1000, 1);
    flushed.length = 0;
    stream(1000, 1);
    expect(flushed.length).toBeGreaterThanOrEqual(9);
    expect(flushed.length).toBeLessThanOrEqual(10);
  });

  test("events folded on arrival are not buffered, yet their batch is handed over (empty when nothing else came) and counts toward a flood", () => {
    const flushed: EngineEventEntry[][] = [];
    const buffer = createEventBuffer((batch) => flushed.push(batch), { fold: (entry) => (entry.name === "chunk:log" ? null : entry) });
    buffer.push(log(0));
    vi.advanceTimersByTime(100);
    expect(flushed).toEqual([[]]);
    buffer.push({ name: "warning", payload: { message: "w" } });
    vi.advanceTimersByTime(100);
    expect(flushed[1]).toEqual([{ name: "warning", payload: { message: "w" } }]);
    // Five thousand folded events a second are a flood: the batches come twice a second.
    flushed.length = 0;
    for (let ms = 0; ms < 2000; ms++) {
      for (let k = 0; k < 5; k++) buffer.push(log(ms));
      vi.advanceTimersByTime(1);
    }
    expect(flushed.length).toBeGreaterThanOrEqual(4);
    expect(flushed.length).toBeLessThanOrEqual(5);
  });

  test("a run's start or end during a flood is drawn within the usual interval, not after the flood's wait", () => {
    const flushed: EngineEventEntry[][] = [];
    const buffer = createEventBuffer((batch) => flushed.push(batch));
    for (let i = 0; i < 2_000; i++) buffer.push(log(i));
    vi.advanceTimersByTime(100);
    expect(flushed).toHaveLength(1);
    // A flood: the next batch waits 500 ms…
    for (let i = 0; i < 100; i++) buffer.push(log(i));
    vi.advanceTimersByTime(300);
    expect(flushed).toHaveLength(1);
    // …unless the run ends meanwhile: then it comes 100 ms later, with everything before it.
    buffer.push({ name: "run:finished", payload: { run: run("r", "a", "done") } });
    vi.advanceTimersByTime(99);
    expect(flushed).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(flushed).toHaveLength(2);
    expect(flushed[1]!.at(-1)?.name).toBe("run:finished");
    expect(flushed[1]).toHaveLength(101);
  });

  test("an idle buffer sets no timer", () => {
    createEventBuffer(() => undefined);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("progress is coalesced per chunk: only the newest count is kept, in place", () => {
    const flushed: EngineEventEntry[][] = [];
    const buffer = createEventBuffer((batch) => flushed.push(batch));
    buffer.push({ name: "chunk:progress", payload: { chunkId: "a", done: 1, total: 10 } });
    buffer.push(log(1));
    buffer.push({ name: "chunk:progress", payload: { chunkId: "a", done: 5, total: 10 } });
    buffer.push({ name: "chunk:progress", payload: { chunkId: "b", done: 1, total: 2 } });
    buffer.flush();
    expect(flushed[0].map((e) => (e.name === "chunk:progress" ? `${e.payload.chunkId}${e.payload.done}` : e.name))).toEqual(["a5", "chunk:log", "b1"]);
  });

  test("close drops what is buffered and ignores later events", () => {
    const flushed: EngineEventEntry[][] = [];
    const buffer = createEventBuffer((batch) => flushed.push(batch));
    buffer.push(log(1));
    buffer.close();
    buffer.push(log(2));
    vi.advanceTimersByTime(1000);
    expect(flushed).toHaveLength(0);
  });

  test("attachEventBuffer follows every engine event and unsubscribes", () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const off = attachEventBuffer(bus, { push: (e) => seen.push(e.name), flush: () => undefined, close: () => undefined });
    bus.emit("warning", { message: "x" });
    bus.emit("run:finished", { run: run("r", "a", "done") });
    expect(seen).toEqual(["warning", "run:finished"]);
    off();
    bus.emit("warning", { message: "y" });
    expect(seen).toHaveLength(2);
    expect(EVENT_NAMES).toContain("chunk:progress");
    expect(EVENT_NAMES).toHaveLength(23);
  });
});

describe("console store", () => {
  beforeEach(() => void vi.useFakeTimers({ now: NOW }));
  afterEach(() => void vi.useRealTimers());

  const size = { rows: 30, columns: 100 };
  /** Advances the fake clock to `ms` after the test began. */
  const to = (ms: number) => vi.advanceTimersByTimeAsync(NOW + ms - Date.now());
  const reload = (controller: FakeController) => controller.events.emit("registry:reloaded", { files: ["jobs/a.ts"], broken: [] });
  /** A controller whose snapshot reads wait until the test answers them, in order. */
  const slowSnapshots = (first: ConsoleSnapshot) => {
    const reads: ReturnType<typeof deferred<ConsoleSnapshot>>[] = [];
    const controller = fakeController(first, { snapshot: () => reads[reads.push(deferred<ConsoleSnapshot>()) - 1].promise });
    return { controller, reads };
  };

  test("600 engine events become one events action, one state change", () => {
    const s = snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a"), chunks: [chunk("r1", "a", 0, "running")] }] });
    const controller = fakeController(s);
    const store = createConsoleStore(controller, { size, snapshot: s });
    store.start();
    let changes = 0;
    store.subscribe(() => changes++);
    for (let i = 0; i < 300; i++) controller.events.emit("chunk:log", { chunkId: "r1.a.0", attempt: 1, level: "info", text: `l${i}` });
    for (let i = 0; i < 300; i++) controller.events.emit("chunk:progress", { chunkId: "r1.a.0", done: i, total: 300 });
    vi.advanceTimersByTime(100);
    expect(changes).toBe(1);
    expect(store.getState().logs.lines).toHaveLength(300);
    expect(store.getState().data.progress.get("r1.a.0")).toEqual({ done: 299, total: 300 });
    store.close();
  });

  test("one clock drives time: a single interval, ticking once a second", () => {
    const controller = fakeController(snapshot());
    const store = createConsoleStore(controller, { size, snapshot: controller.current });
    const before = vi.getTimerCount();
    store.start();
    expect(vi.getTimerCount() - before).toBe(1);
    controller.busy = 3;
    vi.advanceTimersByTime(1000);
    expect(store.getState().now).toBe(NOW + 1000);
    expect(store.getState().data.busy).toBe(3);
    store.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  test("the workers count follows each batch of events, not only the clock: it agrees with the Running pane", () => {
    const s = snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a"), chunks: [chunk("r1", "a", 0)] }] });
    const controller = fakeController(s);
    const store = createConsoleStore(controller, { size, snapshot: s });
    store.start();
    expect(store.getState().data.busy).toBe(0);
    controller.busy = 1;
    controller.events.emit("chunk:started", { chunk: chunk("r1", "a", 0, "running") });
    vi.advanceTimersByTime(100); // the batch's wait, well before the clock's next tick
    expect(store.getState().views.running).toHaveLength(1);
    expect(store.getState().data.busy).toBe(1);
    store.close();
  });

  test("the first snapshot is the option's; run and chunk events follow without reading another", async () => {
    const controller = fakeController(snapshot({ jobs: [job("a")] }));
    const snapshots = vi.spyOn(controller, "snapshot");
    const store = createConsoleStore(controller, { size, snapshot: snapshot({ project: "given", jobs: [job("a")] }) });
    expect(store.getState().data.project).toBe("given");
    store.start();
    const records = [chunk("r1", "a", 0), chunk("r1", "a", 1)];
    controller.events.emit("run:started", { run: run("r1", "a"), chunks: 2, records });
    controller.events.emit("chunk:started", { chunk: chunk("r1", "a", 0, "running") });
    controller.events.emit("chunk:failed", { chunk: chunk("r1", "a", 1, "failed"), error: { message: "boom", kind: "error" }, willRetry: false, durationMs: 2 });
    controller.events.emit("run:finished", { run: run("r1", "a", "failed") });
    await vi.advanceTimersByTimeAsync(5000);
    expect(snapshots).not.toHaveBeenCalled();
    expect(store.getState().data.chunks.get("r1.a.1")?.state).toBe("failed");
    expect(store.getState().views.failures).toHaveLength(1);
    store.close();
  });

  test("a registry reload takes a snapshot; reloads close together share one, at most one per refreshMs", async () => {
    const controller = fakeController(snapshot({ jobs: [job("a")] }));
    const snapshots = vi.spyOn(controller, "snapshot");
    const store = createConsoleStore(controller, { size, snapshot: controller.current, refreshMs: 500 });
    store.start();
    controller.current = snapshot({ jobs: [job("a"), job("b")] });
    reload(controller);
    // The reload reaches the reducer with its event batch (t = 100); the first snapshot follows at once.
    await to(110);
    expect(snapshots).toHaveBeenCalledTimes(1);
    expect(store.getState().data.jobs.map((j) => j.name)).toEqual(["a", "b"]);

    controller.current = snapshot({ jobs: [job("a"), job("b"), job("c")] });
    await to(150);
    reload(controller);
    await to(300);
    reload(controller);
    // The next one waits until 500 ms after the last (t ≈ 600) and serves both reloads.
    await to(600);
    expect(snapshots).toHaveBeenCalledTimes(1);
    await to(650);
    expect(snapshots).toHaveBeenCalledTimes(2);
    expect(store.getState().data.jobs).toHaveLength(3);
    await to(5000);
    expect(snapshots).toHaveBeenCalledTimes(2);
    store.close();
  });

  test("events that arrive while a snapshot is read are applied after it", async () => {
    const a0 = chunk("r1", "a", 0, "queued");
    const first = snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a"), chunks: [a0] }] });
    const { controller, reads } = slowSnapshots(first);
    const store = createConsoleStore(controller, { size, snapshot: first });
    store.start();
    reload(controller);
    await to(110);
    expect(reads).toHaveLength(1);
    // The chunk starts while the store is being read; the read may not have seen it.
    controller.events.emit("chunk:started", { chunk: { ...a0, state: "running" } });
    await to(300);
    expect(store.getState().data.chunks.get(a0.id)?.state).toBe("queued");
    reads[0].resolve(snapshot({ jobs: [job("a"), job("b")], runs: [{ run: run("r1", "a"), chunks: [a0] }] }));
    await to(300);
    expect(store.getState().data.jobs).toHaveLength(2);
    expect(store.getState().data.chunks.get(a0.id)?.state).toBe("running");
    store.close();
  });

  test("events still buffered when a snapshot is taken are applied before it, never after", async () => {
    const a0 = chunk("r1", "a", 0, "running");
    const first = snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a"), chunks: [a0] }] });
    const { controller, reads } = slowSnapshots(first);
    const store = createConsoleStore(controller, { size, snapshot: first, refreshMs: 500 });
    store.start();
    reload(controller);
    await to(110);
    reads[0].resolve(first);
    reload(controller);
    // The second snapshot is throttled to t ≈ 600; at t = 560 a stale event enters the
    // buffer, whose own flush would come at t = 660, after the snapshot was taken.
    await to(560);
    expect(reads).toHaveLength(1);
    controller.events.emit("chunk:started", { chunk: a0 });
    await to(620);
    expect(reads).toHaveLength(2);
    // Handed over before the read began: on screen now, and overwritten by what the read says.
    expect(store.getState().data.chunks.get(a0.id)?.state).toBe("running");
    reads[1].resolve(snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a", "done"), chunks: [{ ...a0, state: "done" }] }] }));
    await to(2000);
    expect(store.getState().data.chunks.get(a0.id)?.state).toBe("done");
    store.close();
  });

  test("a big run's chunk events are folded as they arrive: the panes follow them, and a snapshot read meanwhile counts them once", async () => {
    const BIG = DETAILED_CHUNKS + 100;
    const first = snapshot({ jobs: [job("a")] });
    const { controller, reads } = slowSnapshots(first);
    const store = createConsoleStore(controller, { size, snapshot: first, refreshMs: 500 });
    store.start();
    const a = (i: number, state: ChunkState = "queued", extra: Partial<ChunkRecord> = {}) => chunk("big", "a", i, state, extra);
    const runs = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        controller.events.emit("chunk:started", { chunk: a(i, "running", { worker: 1 }) });
        controller.events.emit("chunk:done", { chunk: a(i, "done", { finishedAt: NOW + i }), durationMs: 1 });
      }
    };
    controller.events.emit("run:started", { run: run("big", "a"), chunks: BIG, records: Array.from({ length: BIG }, (_, i) => a(i)) });
    runs(0, 100);
    controller.events.emit("chunk:started", { chunk: a(100, "running", { worker: 2 }) });
    await to(100);
    let state = store.getState();
    expect(state.views.counts).toMatchObject({ queued: BIG - 101, running: 1, done: 100 });
    expect(state.views.running.map((c) => c.id)).toEqual(["big.a.100"]);
    expect(state.views.queue).toMatchObject([{ kind: "summary", run: { id: "big" } }]);
    // Of the run's chunks only the one on a thread is a record of the console's own.
    expect([...state.data.chunks.keys()]).toEqual(["big.a.100"]);

    // A reload's snapshot is read while more chunks end; it says what the store had when it
    // was read (chunks 0-99 done): the tally, which saw every event since, is newer.
    reload(controller);
    await to(650); // a flood's wait (the batch before was one), then the snapshot's timer
    expect(reads).toHaveLength(1);
    controller.events.emit("chunk:done", { chunk: a(100, "done", { finishedAt: NOW + 100 }), durationMs: 1 });
    runs(101, 201);
    await to(1200);
    const read = Array.from({ length: BIG }, (_, i) => (i < 100 ? a(i, "done", { finishedAt: NOW + i }) : i === 100 ? a(i, "running") : a(i)));
    reads[0].resolve(snapshot({ jobs: [job("a"), job("b")], runs: [{ run: run("big", "a"), chunks: read }] }));
    await to(1300);
    state = store.getState();
    expect(state.data.jobs).toHaveLength(2);
    expect(state.views.counts).toMatchObject({ queued: BIG - 201, running: 0, done: 201 });
    expect(state.views.running).toEqual([]);
    expect(state.data.chunks.size).toBe(0);
    expect(state.views.jobs[0].lastRun).toEqual({ at: NOW + 200, state: "done" });
    expect(state.data.lastSuccess.a).toBe(NOW + 200);
    store.close();
  });

  test("a snapshot that fails is an error notice, and the events held meanwhile still apply", async () => {
    const first = snapshot({ jobs: [job("a")] });
    const { controller, reads } = slowSnapshots(first);
    const store = createConsoleStore(controller, { size, snapshot: first });
    store.start();
    reload(controller);
    await to(110);
    controller.events.emit("run:started", { run: run("r1", "a"), chunks: 1, records: [chunk("r1", "a", 0)] });
    await to(300);
    expect(store.getState().views.queue).toHaveLength(0);
    reads[0].reject(new Error("database gone"));
    await to(300);
    expect(store.getState().notice).toMatchObject({ level: "error", text: expect.stringContaining("database gone") });
    expect(store.getState().views.queue).toHaveLength(1);
    store.close();
  });

  test("controller answers come back as actions: plan, logs, failures as notices", async () => {
    const controller = fakeController(snapshot({ jobs: [job("a")] }), { trigger: async () => Promise.reject(new Error("no such job")) });
    const store = createConsoleStore(controller, { size, snapshot: controller.current });
    store.start();
    const run = (action: Action) => store.dispatch(action);
    run({ type: "command", command: { type: "trigger" } });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().overlay).toMatchObject({ kind: "plan", preview: { job: "daily_stats" } });
    run({ type: "command", command: { type: "confirm" } });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().notice).toMatchObject({ level: "error", text: expect.stringContaining("no such job") });
    expect(controller.calls.map((c) => c.name)).toEqual(["logTail", "plan"]);
    store.close();
  });

  test("pausing awaits setPaused; a refusal is an error notice", async () => {
    const controller = fakeController(snapshot(), { setPaused: async (paused) => (controller.calls.push({ name: "setPaused", args: [paused] }), Promise.reject(new Error("no orchestrator"))) });
    const store = createConsoleStore(controller, { size, snapshot: controller.current });
    store.start();
    store.dispatch({ type: "command", command: { type: "pause" } });
    await vi.advanceTimersByTimeAsync(0);
    expect(controller.calls.find((c) => c.name === "setPaused")?.args).toEqual([true]);
    expect(store.getState().notice).toMatchObject({ level: "error", text: "pausing failed: no orchestrator" });
    store.close();
  });

  test("quitting calls controller.quit(false) and resolves exited after it resolved; Ctrl+C twice forces", async () => {
    let finish!: () => void;
    const controller = fakeController(snapshot(), { quit: (force) => (controller.calls.push({ name: "quit", args: [force] }), new Promise<void>((r) => (finish = r))) });
    const store = createConsoleStore(controller, { size, snapshot: controller.current });
    store.start();
    let exited = false;
    void store.exited.then(() => (exited = true));
    store.dispatch({ type: "command", command: { type: "interrupt" } });
    store.dispatch({ type: "command", command: { type: "interrupt" } });
    await vi.advanceTimersByTimeAsync(0);
    expect(controller.calls.filter((c) => c.name === "quit").map((c) => c.args)).toEqual([[false], [true]]);
    expect(exited).toBe(false);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(exited).toBe(true);
  });

  test("a failing quit rejects exited", async () => {
    const controller = fakeController(snapshot(), { quit: async () => Promise.reject(new Error("drain failed")) });
    const store = createConsoleStore(controller, { size, snapshot: controller.current });
    store.start();
    store.dispatch({ type: "command", command: { type: "quit" } });
    await expect(store.exited).rejects.toThrow("drain failed");
  });
});
