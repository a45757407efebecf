import { closeSync, existsSync, openSync, readdirSync, readSync, statSync, watch } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../../errors.js";
import { logDir, logFile } from "../../store/log-files.js";
import { PgStore } from "../../store/pg/pg-store.js";
import type { ArchivedRun } from "../../store/records.js";
import { parsePositiveInt } from "../args.js";
import { paint } from "../output.js";
import { currentProject, openReadOnlyStore, type RuntimeFlags } from "../runtime.js";

export interface LogsFlags extends RuntimeFlags {
  run?: string;
  follow?: boolean;
  tail?: string;
}

/** The last `maxBytes` of a file: huge logs are read from their end, never whole. */
function readTail(file: string, maxBytes: number): { text: string; size: number } {
  const fd = openSync(file, "r");
  try {
    const size = statSync(file).size;
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    let text = buffer.toString("utf8");
    if (start > 0) text = text.slice(text.indexOf("\n") + 1);
    return { text, size };
  } finally {
    closeSync(fd);
  }
}

/** `stau logs <job>`: the log lines of a job's chunks in one run (the newest by default). */
export async function logsCommand(job: string, flags: LogsFlags): Promise<number> {
  const paths = currentProject(flags);
  const store = await openReadOnlyStore(flags);
  try {
    const tailLines = flags.tail === undefined ? 200 : parsePositiveInt("--tail", flags.tail);
    let run: ArchivedRun | null;
    if (flags.run) {
      run = await store.getRun(flags.run);
      if (!run) throw new UsageError(`no run ${flags.run} in ${store.location}`, "list runs with stau runs");
    } else {
      run = (await store.listRuns(200)).find((r) => r.chunks.some((c) => c.job === job)) ?? null;
      if (!run) {
        process.stdout.write(`no runs of ${job} yet\n`);
        return 0;
      }
    }
    if (!run.chunks.some((c) => c.job === job)) throw new UsageError(`run ${run.run.id} has no chunks of ${job}`, `its chunks are of: ${[...new Set(run.chunks.map((c) => c.job))].join(", ")}`);
    if (store instanceof PgStore) return await storedLogs(store, job, run, tailLines, flags.follow === true);
    return await fileLogs(paths.dataDir, job, run, tailLines, flags.follow === true);
  } finally {
    await store.close();
  }
}

/** Logs kept in the shared database: each attempt's log arrives there when the attempt ends. */
async function storedLogs(store: PgStore, job: string, run: ArchivedRun, tailLines: number, follow: boolean): Promise<number> {
  const out = process.stdout;
  const printed = new Set<string>();
  const print = async () => {
    const logs = (await store.logs(job, run.run.id, 10_000)).filter((l) => !printed.has(`${l.chunkId}#${l.attempt}`));
    logs.sort((a, b) => a.writtenAt - b.writtenAt || a.chunkId.localeCompare(b.chunkId) || a.attempt - b.attempt);
    for (const log of logs) {
      printed.add(`${log.chunkId}#${log.attempt}`);
      for (const line of log.text.split("\n").filter(Boolean).slice(-tailLines)) out.write(`${paint("dim", `[${log.chunkId}#${log.attempt}]`, out)} ${line}\n`);
    }
    return logs.length;
  };
  const found = await print();
  if (!follow) {
    if (found === 0) out.write(`run ${run.run.id} (${run.run.status}): no log lines from ${job}\n`);
    return 0;
  }
  return new Promise((resolve) => {
    const timer = setInterval(() => void print().catch(() => undefined), 1_000);
    process.once("SIGINT", () => {
      clearInterval(timer);
      resolve(0);
    });
  });
}

async function fileLogs(dataDir: string, job: string, run: ArchivedRun, tailLines: number, follow: boolean): Promise<number> {
  const chunks = run.chunks.filter((c) => c.job === job);
  const files = chunks.flatMap((c) => Array.from({ length: Math.max(1, c.attempts) }, (_, i) => ({ chunk: c.id, attempt: i + 1, file: logFile(dataDir, job, c.id, i + 1) })));
  const out = process.stdout;
  const offsets = new Map<string, number>();
  let printed = 0;
  for (const { chunk, attempt, file } of files) {
    if (!existsSync(file)) continue;
    const { text, size } = readTail(file, tailLines * 400);
    offsets.set(file, size);
    const lines = text.split("\n").filter(Boolean).slice(-tailLines);
    for (const line of lines) out.write(`${paint("dim", `[${chunk}#${attempt}]`, out)} ${line}\n`);
    printed += lines.length;
  }
  if (!follow) {
    if (printed === 0) out.write(`run ${run.run.id} (${run.run.status}): no log lines from ${job}\n`);
    return 0;
  }
  return followFiles(logDir(dataDir, job), run.run.id, offsets);
}

/** Prints new lines of the run's log files as they are written, until Ctrl+C. */
function followFiles(dir: string, runId: string, offsets: Map<string, number>): Promise<number> {
  return new Promise((resolve) => {
    const poll = () => {
      if (!existsSync(dir)) return;
      for (const name of readdirSync(dir).filter((n) => n.startsWith(`${runId}.`)).sort()) {
        const file = join(dir, name);
        const from = offsets.get(file) ?? 0;
        const size = statSync(file).size;
        if (size <= from) continue;
        const fd = openSync(file, "r");
        const buffer = Buffer.alloc(size - from);
        readSync(fd, buffer, 0, buffer.length, from);
        closeSync(fd);
        const text = buffer.toString("utf8");
        const complete = text.lastIndexOf("\n") + 1;
        offsets.set(file, from + Buffer.byteLength(text.slice(0, complete)));
        const tag = name.replace(/\.(\d+)\.log$/, "#$1");
        for (const line of text.slice(0, complete).split("\n").filter(Boolean)) process.stdout.write(`${paint("dim", `[${tag}]`)} ${line}\n`);
      }
    };
    const timer = setInterval(poll, 250);
    let watcher: ReturnType<typeof watch> | null = null;
    try {
      watcher = watch(dir, poll);
    } catch {
      // the directory may not exist yet; polling covers it
    }
    process.once("SIGINT", () => {
      clearInterval(timer);
      watcher?.close();
      resolve(0);
    });
  });
}
