import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { runIdOfChunk } from "../records.js";
import { DEFAULT_LOG_CAP_BYTES, logDir, parseLogFileName, type AttemptLog, type LogQuery, type LogStore } from "../logs.js";

/** Chunk logs as the pool writes them: files in the data directory, read from their end. */
export class FileLogs implements LogStore {
  constructor(private readonly dataDir: string) {}

  async keep(): Promise<void> {
    // The pool wrote the file where readers look: nothing to move.
  }

  async find(query: LogQuery): Promise<AttemptLog[]> {
    const found: (Omit<AttemptLog, "text"> & { file: string })[] = [];
    for (const job of query.job === null ? this.jobs() : [query.job]) {
      const dir = logDir(this.dataDir, job);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        const parsed = parseLogFileName(name);
        if (!parsed || (query.chunkId && parsed.chunkId !== query.chunkId)) continue;
        const runId = runIdOfChunk(parsed.chunkId);
        if (query.runId && runId !== query.runId) continue;
        const file = join(dir, name);
        const writtenAt = mtimeOf(file);
        if (query.since != null && writtenAt <= query.since) continue;
        found.push({ job, chunkId: parsed.chunkId, attempt: parsed.attempt, runId, instance: null, writtenAt, file });
      }
    }
    found.sort((a, b) => b.writtenAt - a.writtenAt);
    return found.slice(0, query.limit).map(({ file, ...log }) => ({ ...log, text: readTail(file, query.maxBytes ?? DEFAULT_LOG_CAP_BYTES) }));
  }

  private jobs(): string[] {
    const root = join(this.dataDir, "logs");
    return existsSync(root) ? readdirSync(root) : [];
  }
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** The last `maxBytes` of a file from a line start: huge logs are read from their end, never whole. */
function readTail(file: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return "";
  }
  try {
    const size = statSync(file).size;
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    const text = buffer.toString("utf8");
    return start > 0 ? text.slice(text.indexOf("\n") + 1) : text;
  } finally {
    closeSync(fd);
  }
}
