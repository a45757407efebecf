import { join } from "node:path";

// The one owner of where chunk logs live: data/logs/<job>/<chunk>.<attempt>.log

export const DEFAULT_LOG_CAP_BYTES = 1024 * 1024;

export function logDir(dataDir: string, job: string): string {
  return join(dataDir, "logs", job);
}

export function logFile(dataDir: string, job: string, chunkId: string, attempt: number): string {
  return join(logDir(dataDir, job), `${chunkId.replace(/[^A-Za-z0-9_.~-]/g, "_")}.${attempt}.log`);
}
