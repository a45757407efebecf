import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { LowSync, type SyncAdapter } from "lowdb";
import { StoreError, errorMessage, fileCondition, fileSystemError } from "../../errors.js";
import { snapshotShapeProblem } from "./shapes.js";

const UNTOUCHED = "stau left the file untouched. Restore it from a backup, or move it away to start that part of the store empty.";

/**
 * lowdb's adapter for one JSON file, written so that a power loss at any moment leaves
 * either the old file or the new one, whole: the new text goes to a temporary file
 * beside it, which is synced before it is renamed over the old one, and the directory
 * is synced after, so the rename itself is on disk. (lowdb's own JSONFileSync renames
 * without syncing: after a power loss the file could be empty or missing.)
 *
 * What it reads is checked by `check` (what is wrong, or null): a file of the wrong
 * shape is refused with its path and never written over.
 */
export class DurableJsonFile<T> implements SyncAdapter<T> {
  readonly temp: string;

  constructor(
    readonly file: string,
    private readonly check: (data: unknown) => string | null = () => null,
  ) {
    this.temp = join(dirname(file), `.${basename(file)}.tmp`);
  }

  read(): T | null {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw fileSystemError(error, { what: "a file of the store" }) ?? error;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new StoreError("store_corrupt", `${this.file} is not valid JSON: ${errorMessage(error)}`, UNTOUCHED, error);
    }
    const problem = this.check(data);
    if (problem !== null) throw new StoreError("store_corrupt", `${this.file} does not hold what stau keeps there: ${problem}`, UNTOUCHED);
    return data as T;
  }

  write(data: T): void {
    const text = JSON.stringify(data, null, 2);
    try {
      const fd = openSync(this.temp, "w", 0o644);
      try {
        writeFileSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(this.temp, this.file);
    } catch (error) {
      removeQuietly(this.temp);
      throw writeError(this.file, error);
    }
    try {
      syncDirectory(dirname(this.file));
    } catch (error) {
      throw writeError(this.file, error);
    }
  }
}

/**
 * A snapshot that could not be written: the file, and what the disk said. The old file
 * is still there, whole; the caller decides what that means (compaction tries again).
 */
function writeError(file: string, error: unknown): StoreError {
  const condition = fileCondition(error);
  const why = condition ? `${condition.meaning} (${condition.code})` : errorMessage(error);
  return new StoreError("store_unwritable", `cannot write ${file}: ${why}`, condition?.hint ?? "check the disk and the data directory, then try again", error);
}

/** Makes a rename in `dir` durable. Where directories cannot be synced (some platforms and file systems), the rename stands as written. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "ENOTSUP" && code !== "EISDIR" && code !== "EPERM") throw error;
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Not there, or the directory refuses changes: the next write replaces it.
  }
}

/**
 * A lowdb JSON file read once and rewritten whole, durably (see DurableJsonFile). A file
 * that does not parse, or is not shaped like `empty()` (snapshotShapeProblem), is
 * reported with its path and never written over; a missing one starts as `empty()`.
 */
export function openSnapshot<T extends object>(file: string, empty: () => T): LowSync<T> {
  const template = empty();
  const db = new LowSync<T>(new DurableJsonFile<T>(file, (data) => snapshotShapeProblem(data, template)), empty());
  db.read();
  return db;
}
