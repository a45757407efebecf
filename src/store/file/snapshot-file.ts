import { LowSync } from "lowdb";
import { JSONFileSync } from "lowdb/node";
import { StoreError } from "../../errors.js";

/**
 * A lowdb JSON file read once and rewritten whole, atomically (write-then-rename).
 * A file that does not parse is reported with its path and never written over.
 */
export function openSnapshot<T>(file: string, empty: () => T): LowSync<T> {
  const db = new LowSync<T>(new JSONFileSync<T>(file), empty());
  try {
    db.read();
  } catch (error) {
    throw new StoreError(
      "store_corrupt",
      `${file} is not valid JSON: ${(error as Error).message}`,
      "stau left the file untouched. Restore it from a backup, or move it away to start that part of the store empty.",
      error,
    );
  }
  db.data ??= empty();
  return db;
}
