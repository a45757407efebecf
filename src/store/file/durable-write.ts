import { closeSync, fsyncSync, openSync, renameSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { StoreError, errorMessage, fileCondition } from "../../errors.js";

/** Writes a new `temp` file with `write` and syncs it to disk. */
function writeSynced(temp: string, write: (fd: number) => void): void {
  const fd = openSync(temp, "w", 0o644);
  try {
    write(fd);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `file` so that a power loss at any moment leaves either the old file or the
 * new one, whole: `write` fills a temporary file beside it, which is synced before it
 * is renamed over the old one, and the directory is synced after, so the rename itself
 * is on disk. A failure leaves the old file as it was and says what the disk said.
 */
export function replaceDurably(file: string, write: (fd: number) => void, temp = join(dirname(file), `.${basename(file)}.tmp`)): void {
  try {
    writeSynced(temp, write);
    renameSync(temp, file);
  } catch (error) {
    removeQuietly(temp);
    throw writeError(file, error);
  }
  try {
    syncDirectory(dirname(file));
  } catch (error) {
    throw writeError(file, error);
  }
}

/**
 * Replaces several files as replaceDurably does each, with one sync of each directory
 * after every rename instead of one per file: when it returns, all are on disk; a crash
 * before leaves each file either old or new, whole (callers write what makes the set
 * count, such as a head pointing at shards, afterwards).
 */
export function replaceAllDurably(files: readonly (readonly [file: string, write: (fd: number) => void])[]): void {
  const temps: string[] = [];
  try {
    for (const [file, write] of files) {
      const temp = join(dirname(file), `.${basename(file)}.tmp`);
      temps.push(temp);
      writeSynced(temp, write);
    }
  } catch (error) {
    for (const temp of temps) removeQuietly(temp);
    throw writeError(files[temps.length - 1]![0], error);
  }
  for (const [i, [file]] of files.entries()) {
    try {
      renameSync(temps[i]!, file);
    } catch (error) {
      for (const temp of temps.slice(i)) removeQuietly(temp);
      throw writeError(file, error);
    }
  }
  for (const dir of new Set(files.map(([file]) => dirname(file)))) {
    try {
      syncDirectory(dir);
    } catch (error) {
      throw writeError(dir, error);
    }
  }
}

/**
 * A file that could not be written: the file, and what the disk said. The old file
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

