import { render } from "ink";
import { EventEmitter } from "node:events";
import { afterEach, describe, expect, test } from "vitest";
import { App } from "../../src/ui/App.js";
import { createConsoleStore, type ConsoleStore } from "../../src/ui/console-store.js";
import { runConsole } from "../../src/ui/run-console.js";
import type { ConsoleSnapshot } from "../../src/console/contract.js";
import { EVENT_NAMES } from "../../src/events.js";
import { chunk, deferred, fakeController, job, NOW, run, snapshot, type FakeController } from "./fixtures.js";
import { eventually, plain } from "./frames.js";

/** A terminal-sized stdout that records what Ink writes and can be resized. */
class FakeStdout extends EventEmitter {
  readonly writes: string[] = [];
  constructor(
    public rows: number,
    public columns: number,
  ) {
    super();
  }
  write = (data: string) => (this.writes.push(data), true);
  resize(rows: number, columns: number) {
    this.rows = rows;
    this.columns = columns;
    this.emit("resize");
  }
}

/** A raw-mode stdin whose key presses Ink reads through 'readable' and read(). */
class FakeStdin extends EventEmitter {
  isTTY = true;
  rawMode = false;
  rawModeOffs = 0;
  private readonly queue: string[] = [];
  setRawMode(on: boolean) {
    this.rawMode = on;
    if (!on) this.rawModeOffs++;
  }
  setEncoding() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read = () => this.queue.shift() ?? null;
  press(data: string) {
    this.queue.push(data);
    this.emit("readable");
  }
}

const streams = (rows: number, columns: number) => ({ stdout: new FakeStdout(rows, columns), stdin: new FakeStdin() });
const asStreams = (s: ReturnType<typeof streams>) => ({ stdout: s.stdout as unknown as NodeJS.WriteStream, stdin: s.stdin as unknown as NodeJS.ReadStream });
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** The App on fake streams in debug mode (every frame written at once), like a terminal would host it. */
function mount(controller: FakeController, io: ReturnType<typeof streams>) {
  const { rows, columns } = io.stdout;
  const store: ConsoleStore = createConsoleStore(controller, { size: { rows, columns }, snapshot: controller.current, now: () => NOW });
  const app = render(<App store={store} />, { ...asStreams(io), debug: true, exitOnCtrlC: false, patchConsole: false });
  cleanups.push(() => (store.close(), app.unmount()));
  store.start();
  return { store, lastFrame: () => plain(io.stdout.writes.at(-1)).split("\n") };
}

/** Raw mode is switched on in an effect, after the panes' key handlers are attached: from then on keys are heard. */
const listening = (io: ReturnType<typeof streams>) => eventually(() => expect(io.stdin.rawMode).toBe(true));

/** Every event name nobody listens to any more: the console let go of the bus. */
const unheard = (controller: FakeController) => EVENT_NAMES.filter((name) => !controller.events.heard(name));

describe("terminal size", () => {
  test("the App follows the terminal's resize events and never outgrows it", async () => {
    const io = streams(40, 120);
    const { store, lastFrame } = mount(fakeController(snapshot({ jobs: Array.from({ length: 100 }, (_, i) => job(`job_${i}`)) })), io);
    await eventually(() => expect(lastFrame().length).toBe(39));
    io.stdout.resize(15, 60);
    await eventually(() => expect(lastFrame().length).toBe(14));
    expect(store.getState().size).toEqual({ rows: 15, columns: 60 });
  });
});

describe("keys", () => {
  test("a key press reaches exactly one handler: the focused pane's", async () => {
    const io = streams(40, 120);
    const jobs = Array.from({ length: 30 }, (_, i) => job(`job_${i}`));
    // Queued chunks, so "j" in the queue moves its selection: proof that the key got there.
    const runs = [{ run: run("r1", "job_0"), chunks: [0, 1, 2].map((i) => chunk("r1", "job_0", i)) }];
    const { store } = mount(fakeController(snapshot({ jobs, runs })), io);
    await listening(io);
    io.stdin.press("j");
    await eventually(() => expect(store.getState().selected.jobs).toBe(1));
    io.stdin.press("\t");
    await eventually(() => expect(store.getState().focus).toBe("queue"));
    io.stdin.press("j");
    await eventually(() => expect(store.getState().selected.queue).toBe(1));
    expect(store.getState().selected.jobs).toBe(1);
    // Focus moved between panes without the terminal leaving raw mode, even for a moment.
    expect(io.stdin.rawMode).toBe(true);
    expect(io.stdin.rawModeOffs).toBe(0);
    io.stdin.press("?");
    await eventually(() => expect(store.getState().overlay?.kind).toBe("help"));
    io.stdin.press("j");
    await eventually(() => expect(store.getState().overlay).toMatchObject({ kind: "help", scroll: 1 }));
    expect(store.getState().selected).toMatchObject({ jobs: 1, queue: 1 });
  });

  test("in a terminal too small for any pane, Ctrl+C still drains, and again forces", async () => {
    const io = streams(1, 30);
    const controller = fakeController(snapshot(), { quit: (force) => (controller.calls.push({ name: "quit", args: [force] }), new Promise<void>(() => undefined)) });
    const { store } = mount(controller, io);
    await listening(io);
    io.stdin.press("\u0003");
    await eventually(() => expect(store.getState().quit).toBe("draining"));
    io.stdin.press("\u0003");
    await eventually(() => expect(controller.calls.filter((c) => c.name === "quit").map((c) => c.args)).toEqual([[false], [true]]));
  });
});

describe("runConsole", () => {
  test("reads the first snapshot itself and shows nothing before it", async () => {
    const io = streams(30, 100);
    const first = deferred<ConsoleSnapshot>();
    const asked = deferred<void>();
    const controller = fakeController(snapshot(), { snapshot: () => (asked.resolve(), first.promise) });
    let end!: () => void;
    const done = runConsole(controller, { ...asStreams(io), until: new Promise<void>((resolve) => (end = resolve)) });
    await asked.promise;
    // Held at the snapshot: no frame, no key handling, no listener on the bus yet.
    expect(io.stdout.writes).toHaveLength(0);
    expect(io.stdin.rawMode).toBe(false);
    expect(unheard(controller)).toEqual(EVENT_NAMES);
    first.resolve(snapshot({ jobs: [job("daily_stats")] }));
    await eventually(() => expect(plain(io.stdout.writes.join(""))).toContain("daily_stats"));
    end();
    await done;
  });

  test("renders the console and resolves (unmounted) when stau reports it stopped", async () => {
    const io = streams(30, 100);
    const controller = fakeController(snapshot({ jobs: [job("daily_stats")] }));
    let resolved = false;
    const done = runConsole(controller, asStreams(io)).then(() => (resolved = true));
    await eventually(() => expect(plain(io.stdout.writes.join(""))).toContain("daily_stats"));
    expect(resolved).toBe(false);
    controller.events.emit("instance:stopped", { aborted: 0 });
    await done;
    expect(controller.calls.some((c) => c.name === "quit")).toBe(false);
    // Unmounted: no listener is left on the event bus or the streams, so nothing can draw again.
    expect(unheard(controller)).toEqual(EVENT_NAMES);
    expect(io.stdout.listenerCount("resize")).toBe(0);
    expect(io.stdin.rawMode).toBe(false);
  });

  test("says whether Ctrl+C ended it, so `stau dev` exits 130 then and 0 after q", async () => {
    const ended = async (key: string) => {
      const io = streams(30, 100);
      const done = runConsole(fakeController(snapshot({ jobs: [job("daily_stats")] })), asStreams(io));
      await listening(io);
      io.stdin.press(key);
      return done;
    };
    expect(await ended("\u0003")).toEqual({ interrupted: true });
    expect(await ended("q")).toEqual({ interrupted: false });
  });

  test("`until` ends it from outside: unmounted, without asking stau to quit", async () => {
    const io = streams(30, 100);
    const controller = fakeController(snapshot({ jobs: [job("daily_stats")] }));
    let end!: () => void;
    const done = runConsole(controller, { ...asStreams(io), until: new Promise<void>((resolve) => (end = resolve)) });
    await eventually(() => expect(plain(io.stdout.writes.join(""))).toContain("daily_stats"));
    end();
    await done;
    expect(controller.calls.some((c) => c.name === "quit")).toBe(false);
    expect(unheard(controller)).toEqual(EVENT_NAMES);
    expect(io.stdout.listenerCount("resize")).toBe(0);
  });
});
