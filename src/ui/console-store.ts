import type { Action, EngineEventEntry } from "./actions.js";
import type { ConsoleController, ConsoleSnapshot } from "../console/contract.js";
import { attachEventBuffer, createEventBuffer } from "./event-buffer.js";
import { initialState, reduce } from "./reducer.js";
import { runEffect } from "./run-effect.js";
import type { ConsoleState, Size } from "./state.js";

export interface ConsoleStoreOptions {
  readonly size: Size;
  /** The controller's first snapshot, read before the console is shown. */
  readonly snapshot: ConsoleSnapshot;
  readonly now?: () => number;
  /** The shared clock: elapsed times, uptime, spinners and busy workers. */
  readonly clockMs?: number;
  /** Longest time an engine event waits before it reaches the screen. */
  readonly flushMs?: number;
  /** Shortest time between two snapshots taken after the job files changed (registry:reloaded). */
  readonly refreshMs?: number;
}

/** How often the clock redraws an idle console (nothing running, no notice showing). */
const IDLE_TICK_MS = 5_000;

/** The console's state holder: reducer, event batching, clock and effects in one place. */
export interface ConsoleStore {
  getState(): ConsoleState;
  subscribe(listener: () => void): () => void;
  dispatch(action: Action): void;
  /** Follows events, starts the clock and runs the initial effects. */
  start(): void;
  /** Stops events, clock and timers (idempotent). */
  close(): void;
  /** Resolves once the user quit and controller.quit resolved (or stau stopped); rejects if quit failed. */
  readonly exited: Promise<void>;
}

/** A store over `controller`; call start() once the UI is mounted and close() (or quit) to end it. */
export function createConsoleStore(controller: ConsoleController, options: ConsoleStoreOptions): ConsoleStore {
  // Read once: closures that outlive this call must not keep `options`, whose first
  // snapshot holds every chunk of up to a hundred runs.
  const now = options.now ?? Date.now;
  const refreshMs = options.refreshMs ?? 500;
  const clockMs = options.clockMs ?? 1000;
  let state = initialState(options.snapshot, options.size, now());
  // The first effects (the initial log tail) are kept aside until start(): a dispatch
  // before it (the App's first resize, say) must not drop them.
  const initialEffects = state.effects;
  state = { ...state, effects: [] };
  const listeners = new Set<() => void>();
  const cleanups: (() => void)[] = [];
  let closed = false;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  let lastRefresh = 0;
  let settleExit!: { resolve: () => void; reject: (error: unknown) => void };
  const exited = new Promise<void>((resolve, reject) => (settleExit = { resolve, reject }));
  // Whoever awaits `exited` sees a failure; nobody awaiting must not crash the process.
  exited.catch(() => undefined);

  const dispatch = (action: Action) => {
    const next = reduce(state, action);
    const effects = next.effects;
    const changed = next !== state;
    state = effects.length > 0 ? { ...next, effects: [] } : next;
    if (changed) for (const listener of listeners) listener();
    for (const effect of effects) runEffect(effect, context);
  };
  // Events that arrive while a snapshot is being read are held and applied after it:
  // they are at least as new as what it read.
  let held: EngineEventEntry[] | null = null;
  // A reload asked for while a snapshot is being read gets a read of its own after it.
  let readAgain = false;
  // What the controller says of its threads, read with each batch and tick (undefined: it could not say).
  const ask = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch {
      return undefined;
    }
  };
  const busy = () => ask(() => controller.busyWorkers());
  const threads = () => ask(() => controller.threadsNow?.());
  // A summarized run's chunk changes are folded as they arrive, not buffered (summarized-runs.ts);
  // a snapshot read meanwhile keeps them, as the tally is newer than any snapshot.
  const buffer = createEventBuffer((events) => (held ? (held = held.concat(events)) : dispatch({ type: "events", events, at: now(), busy: busy(), threads: threads(), folded: true })), {
    intervalMs: options.flushMs ?? 100,
    fold: (entry) => state.data.tally.fold(entry, now),
  });
  const takeSnapshot = () => {
    refreshTimer = null;
    lastRefresh = now();
    if (closed) return;
    if (held) {
      readAgain = true;
      return;
    }
    // Older buffered events go first, so they can never overwrite what the snapshot says.
    buffer.flush();
    held = [];
    controller
      .snapshot()
      .then(
        (snapshot) => !closed && dispatch({ type: "snapshot", snapshot }),
        (error: unknown) => dispatch({ type: "notice", text: `reading stau's state failed: ${error instanceof Error ? error.message : String(error)}`, level: "error" }),
      )
      .finally(() => {
        const events = held ?? [];
        held = null;
        if (events.length > 0 && !closed) dispatch({ type: "events", events, at: now(), busy: busy(), threads: threads(), folded: true });
        if (readAgain) {
          readAgain = false;
          context.refresh();
        }
      });
  };
  const context = {
    controller,
    dispatch,
    refresh: () => {
      if (refreshTimer === null && !closed) refreshTimer = setTimeout(takeSnapshot, Math.max(0, lastRefresh + refreshMs - now()));
    },
    exit: (error?: unknown) => {
      close();
      if (error === undefined) settleExit.resolve();
      else settleExit.reject(error);
    },
  };
  const close = () => {
    if (closed) return;
    closed = true;
    buffer.close();
    if (refreshTimer !== null) clearTimeout(refreshTimer);
    cleanups.splice(0).forEach((cleanup) => cleanup());
  };

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispatch,
    start() {
      if (closed || cleanups.length > 0) return;
      cleanups.push(attachEventBuffer(controller.events, buffer));
      let lastTick = -Infinity;
      const tick = () => {
        const at = now();
        const workers = busy();
        // With nothing running only ages and the uptime move: a frame every few seconds
        // is enough, and keeps an idle console near zero CPU.
        const idle = state.views.running.length === 0 && (workers ?? 0) === 0 && state.notice === null;
        if (idle && at - lastTick < IDLE_TICK_MS) return;
        lastTick = at;
        dispatch({ type: "tick", now: at, busy: workers, threads: threads() });
      };
      const clock = setInterval(tick, clockMs);
      cleanups.push(() => clearInterval(clock));
      tick();
      for (const effect of initialEffects) runEffect(effect, context);
    },
    close,
    exited,
  };
}
