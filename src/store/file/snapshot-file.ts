import { readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { LowSync, type SyncAdapter } from "lowdb";
import { StoreError, errorMessage, fileSystemError } from "../../errors.js";
import { replaceDurably } from "./durable-write.js";
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
    private readonly codec: SnapshotCodec<T> | null = null,
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
    return this.codec ? this.codec.fromJson(data) : (data as T);
  }

  write(data: T): void {
    replaceDurably(this.file, (fd) => (this.codec ? this.codec.writeJson(fd, data) : writeFileSync(fd, JSON.stringify(data))), this.temp);
  }
}

/** How a snapshot is held in memory when that differs from its JSON (without one: as parsed, written with JSON.stringify). */
export interface SnapshotCodec<T> {
  /** From the parsed file, already checked against the empty value's shape. */
  fromJson(data: unknown): T;
  /** Writes the file's JSON text to `fd`, from its start. */
  writeJson(fd: number, data: T): void;
}

/**
 * A lowdb JSON file read once and rewritten whole, durably (see DurableJsonFile). A file
 * that does not parse, or is not shaped like `empty()` (snapshotShapeProblem), is
 * reported with its path and never written over; a missing one starts as `empty()`,
 * the file's JSON, which `codec` turns into what is held in memory.
 */
export function openSnapshot<T extends object>(file: string, empty: () => T): LowSync<T>;
export function openSnapshot<T extends object>(file: string, empty: () => object, codec: SnapshotCodec<T>): LowSync<T>;
export function openSnapshot<T extends object>(file: string, empty: () => object, codec: SnapshotCodec<T> | null = null): LowSync<T> {
  const template = empty();
  const fresh = codec ? codec.fromJson(empty()) : (empty() as T);
  const db = new LowSync<T>(new DurableJsonFile<T>(file, (data) => snapshotShapeProblem(data, template), codec), fresh);
  db.read();
  return db;
}
