import { closeSync, fsyncSync, openSync, renameSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { StoreError, errorMessage, fileCondition } from "../../errors.js";

/**
 * Replaces `file` so that a power loss at any moment leaves either the old file or the
 * new one, whole: `write` fills a temporary file beside it, which is synced before it
 * is renamed over the old one, and the directory is synced after, so the rename itself
 * is on disk. A failure leaves the old file as it was and says what the disk said.
 */
export function replaceDurably(file: string, write: (fd: number) => void, temp = join(dirname(file), `.${basename(file)}.tmp`)): void {
  try {
    const fd = openSync(temp, "w", 0o644);
    try {
      write(fd);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
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

