import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { FSWatcher } from "chokidar";
import type Picomatch from "picomatch";
import type { ScheduleEntrySpec } from "../config/spec.js";
import { errorMessage } from "../errors.js";
import type { ScheduleHost } from "./scheduler.js";
import type { ScheduleMark } from "./ticks.js";

// Data-arrival triggers (`onFiles` entries): a run when files matching the entry's glob
// appear or change, with their paths in kwargs.files. Each file is handled once per
// content: the content hash of every file an entry fired for is kept in its schedule
// mark, in the store, so a restart, a rewrite with the same bytes or another instance
// taking over never fires for it again, and files that arrived while stau was down fire
// once on start. Only the orchestrating instance runs this, so on a shared store exactly
// one copy fires.

/** Saves come in bursts (an editor, a copy of many files): one run for a burst. */
export const FILE_DEBOUNCE_MS = 500;
/** How soon files held back (paused schedule, a run of the job still active) are tried again. */
const HELD_MS = 5_000;

export interface FileTriggerOptions {
  readonly root: string;
  readonly entries: readonly ScheduleEntrySpec[];
  readonly marks: ReadonlyMap<string, ScheduleMark>;
  readonly host: ScheduleHost;
  /** Writes a mark durably (the fire-and-forget host.mark is for the mark after a fire). */
  readonly record: (entryId: string, mark: ScheduleMark) => Promise<void>;
  /** Whether the entry fired for this tick (a run holds it), whoever fired it. */
  readonly fired: (entryId: string, tickAt: number) => Promise<boolean>;
  /** The schedule's pause (`p`, `stau pause`): arrivals meanwhile are held and fire once it ends. */
  readonly paused: () => boolean;
  readonly now?: () => number;
  readonly debounceMs?: number;
}

interface Watched {
  entry: ScheduleEntrySpec;
  matches: (path: string) => boolean;
  /** Paths seen changing and not yet handled (debounced, or held back by a skip). */
  pending: Set<string>;
  timer: NodeJS.Timeout | null;
  firing: Promise<void>;
  /** Why the pending files are held back, once said. */
  heldFor: string | null;
}

/** The part of a glob before its first magic character: where to watch. */
function baseOf(picomatch: typeof Picomatch, pattern: string): string {
  return picomatch.scan(pattern).base || ".";
}

const hashOf = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

export class FileTriggers {
  readonly #options: FileTriggerOptions;
  readonly #marks: Map<string, ScheduleMark>;
  readonly #watched = new Map<string, Watched>();
  #watcher: FSWatcher | null = null;
  #running = false;

  constructor(options: FileTriggerOptions) {
    this.#options = options;
    this.#marks = new Map(options.marks);
  }

  /** Fires once for what arrived while stau was down, then watches. */
  async start(): Promise<void> {
    this.#running = true;
    await this.#follow(this.#options.entries);
  }

  /** Hot reload: watches what the new entries ask for; what each entry handled is kept by id. */
  async setEntries(entries: readonly ScheduleEntrySpec[]): Promise<void> {
    if (!this.#running) return;
    await this.#follow(entries);
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const watched of this.#watched.values()) if (watched.timer) clearTimeout(watched.timer);
    await Promise.allSettled([...this.#watched.values()].map((w) => w.firing));
    this.#watched.clear();
    await this.#watcher?.close();
    this.#watcher = null;
  }

  /** What an entry watches and last fired for, for `stau schedule` and `stau explain`. */
  lastFiles(entryId: string): readonly string[] {
    return this.#marks.get(entryId)?.lastFiles ?? [];
  }

  async #follow(entries: readonly ScheduleEntrySpec[]): Promise<void> {
    for (const watched of this.#watched.values()) if (watched.timer) clearTimeout(watched.timer);
    this.#watched.clear();
    await this.#watcher?.close();
    this.#watcher = null;
    const onFiles = entries.filter((e) => typeof e.onFiles === "string" && e.enabled);
    if (onFiles.length === 0) return;
    // Loaded only for a schedule that has onFiles entries (~55 ms of modules otherwise).
    const [{ watch }, { default: picomatch }, { glob }] = await Promise.all([import("chokidar"), import("picomatch"), import("tinyglobby")]);
    if (!this.#running) return;
    for (const entry of onFiles) {
      await this.#settle(entry.id);
      const watched: Watched = { entry, matches: picomatch(entry.onFiles!, { dot: false }), pending: new Set(), timer: null, firing: Promise.resolve(), heldFor: null };
      this.#watched.set(entry.id, watched);
      // Arrivals while stau was down: everything matching now, less what was handled.
      for (const path of await glob(entry.onFiles!, { cwd: this.#options.root, onlyFiles: true })) watched.pending.add(path);
      if (watched.pending.size > 0) this.#soon(watched, 0);
    }
    const bases = [...new Set(onFiles.map((e) => join(this.#options.root, baseOf(picomatch, e.onFiles!))))];
    this.#watcher = watch(bases, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 25 } });
    const seen = (absolute: string) => {
      const path = relative(this.#options.root, absolute).split(sep).join("/");
      for (const watched of this.#watched.values()) {
        if (!watched.matches(path)) continue;
        watched.pending.add(path);
        this.#soon(watched);
      }
    };
    this.#watcher.on("add", seen).on("change", seen);
    await new Promise<void>((resolve) => this.#watcher!.once("ready", () => resolve()));
  }

  /** A fire written down and not confirmed (the instance died in between): handled if its run exists, pending again if not. */
  async #settle(entryId: string): Promise<void> {
    const mark = this.#marks.get(entryId);
    if (!mark?.firing) return;
    const { firing, ...rest } = mark;
    const fired = await this.#options.fired(entryId, firing.tickAt);
    const next: ScheduleMark = fired ? { ...rest, lastTickAt: firing.tickAt, files: { ...rest.files, ...firing.files }, lastFiles: Object.keys(firing.files) } : rest;
    this.#marks.set(entryId, next);
    await this.#options.record(entryId, next);
  }

  #soon(watched: Watched, delay = this.#options.debounceMs ?? FILE_DEBOUNCE_MS): void {
    if (!this.#running) return;
    if (watched.timer) clearTimeout(watched.timer);
    watched.timer = setTimeout(() => {
      watched.timer = null;
      watched.firing = watched.firing.then(() => this.#fire(watched));
    }, delay);
    watched.timer.unref();
  }

  /** Fires for the pending files whose content the entry has not handled yet. */
  async #fire(watched: Watched): Promise<void> {
    if (!this.#running || watched.pending.size === 0) return;
    if (this.#options.paused()) {
      this.#soon(watched, HELD_MS);
      return;
    }
    const { entry } = watched;
    const { host } = this.#options;
    const mark = this.#marks.get(entry.id) ?? { lastTickAt: null, lastSkip: null };
    const handled = mark.files ?? {};
    const paths = [...watched.pending].sort();
    watched.pending.clear();
    const fresh: Record<string, string> = {};
    for (const path of paths) {
      let hash: string;
      try {
        hash = hashOf(await readFile(join(this.#options.root, path)));
      } catch {
        continue; // gone again before it was read: nothing to do
      }
      if (handled[path] !== hash) fresh[path] = hash;
    }
    const files = Object.keys(fresh);
    if (files.length === 0) return;
    const now = (this.#options.now ?? Date.now)();
    const skip = host.skipReason(entry);
    if (skip !== null) {
      // Not lost: they stay pending, and are tried again at the next arrival or in a while.
      for (const path of files) watched.pending.add(path);
      // Said once per reason, not at every look while the files wait.
      if (watched.heldFor !== skip.reason) host.skipped(entry, now, skip);
      watched.heldFor = skip.reason;
      if (watched.timer === null) this.#soon(watched, HELD_MS);
      return;
    }
    watched.heldFor = null;
    try {
      // Written down first: a kill after the run and before the mark below must not fire these files again.
      await this.#options.record(entry.id, { ...mark, firing: { tickAt: now, files: fresh } });
      await host.fire({ ...entry, kwargs: { ...entry.kwargs, files } }, now, false);
    } catch (error) {
      for (const path of files) watched.pending.add(path);
      host.skipped(entry, now, { kind: "error", reason: `firing for ${files.join(", ")} failed: ${errorMessage(error)}` });
      return;
    }
    const next: ScheduleMark = { ...mark, lastTickAt: now, files: { ...handled, ...fresh }, lastFiles: files, firing: undefined };
    this.#marks.set(entry.id, next);
    host.mark(entry.id, next);
  }
}
