// Entry of the throw-away worker that reads job configs and the schedule: a thread (a
// one-off load) or a spare process (hot reload; spare-loader.ts). Job code is imported
// here, never in stau's main thread; only plain descriptions travel back.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parentPort, Worker, workerData } from "node:worker_threads";
import { describeConfig, type DescribedConfig } from "../config/described.js";
import { endChildProcesses, startLoaderEsbuild } from "./child-processes.js";
import { importModule, locateError, warmUp } from "./import-module.js";
import { readsAsCommonJs } from "./module-type.js";

export interface LoadRequest {
  readonly files: readonly string[];
}

export type LoadResult =
  | { readonly file: string; readonly ok: true; readonly config: DescribedConfig }
  | {
      readonly file: string;
      readonly ok: false;
      readonly message: string;
      /** The file the error is in, when it is a helper the job imports. */
      readonly errorFile?: string;
      readonly line?: number;
      readonly column?: number;
      /** Node's code for the error (`ERR_REQUIRE_CYCLE_MODULE`, …), when it has one. */
      readonly errorCode?: string;
    };

/** How often a spare process looks whether stau is still there (watchParent). */
const PARENT_CHECK_MS = 500;

async function loadOne(file: string): Promise<LoadResult> {
  try {
    const module = await importModule(file);
    return { file, ok: true, config: describeConfig(module.default) };
  } catch (error) {
    const { file: errorFile, ...where } = locateError(error, file);
    const code = (error as { code?: unknown } | null)?.code;
    return { file, ok: false, errorFile, ...where, errorCode: typeof code === "string" ? code : undefined };
  }
}

// Job code that ends the process at import time would end this worker without an
// answer: here it fails that file's import instead, at the line that called it.
const exit: (code: number) => never = process.exit.bind(process);
process.exit = ((code?: number | string | null) => {
  throw new Error(`process.exit(${code ?? ""}) was called while the file was imported`);
}) as typeof process.exit;

// Console output of job modules at import time must not reach the terminal.
for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) console[method] = () => {};

// ES modules first, all at once, then CommonJS files: a CommonJS job's require("stau")
// while an ES module job's import of stau is still in flight fails in Node ("not yet
// fully loaded"), however the two are ordered within the batch.
async function load(request: LoadRequest): Promise<void> {
  const commonJs = request.files.filter(readsAsCommonJs);
  const modules = await Promise.all(request.files.filter((file) => !readsAsCommonJs(file)).map(loadOne));
  await answer([...modules, ...(await Promise.all(commonJs.map(loadOne)))]);
  await end();
}

function answer(results: LoadResult[]): Promise<void> {
  if (parentPort) {
    parentPort.postMessage(results);
    return Promise.resolve();
  }
  // Sent once written to the channel: ending before that would lose it.
  return new Promise((resolve) => process.send!(results, () => resolve()));
}

/**
 * Ends this worker after the loader's esbuild (which only this worker's hooks can reap)
 * and whatever job code left running.
 */
async function end(): Promise<never> {
  const reaped = await endChildProcesses();
  // Exiting waits for the module-hooks thread to stop: a spare process whose hooks did not
  // answer ends at once instead (a thread may not: the process is stau's).
  if (!reaped && !parentPort) endNow();
  exit(0);
}

/** A spare process ends without waiting for anything (its stau is gone, or its hooks thread stuck). */
function endNow(): never {
  process.kill(process.pid, "SIGKILL");
  return exit(0);
}

/**
 * Imports "stau" as the project's job files will (10–17 ms of a one-file load in a spare
 * here when the files paid for it), or nothing when the project does not have it.
 */
async function importStauFor(jobsDir: string): Promise<void> {
  try {
    await import(pathToFileURL(createRequire(join(jobsDir, "index.js")).resolve("stau")).href);
  } catch {
    // Each job's own import says what is wrong, if anything is.
  }
}

if (parentPort) {
  await load(workerData as LoadRequest);
} else {
  // A spare process (hot reload), given the project's jobs folder: the loader is set up
  // now, the files come when a save does.
  watchParent();
  warmUp();
  // The files wait for that import: a CommonJS job's require("stau") while it is in
  // flight would fail, as in load().
  const warmed = importStauFor(process.argv[2]!).then(startLoaderEsbuild);
  process.once("message", (next: LoadRequest) => void warmed.then(() => load(next)));
  // stau ended (even killed): so does its spare, at once (its esbuild ends on its closed
  // stdin). stau may have ended while this module was still loading, before anyone listened.
  process.once("disconnect", endNow);
  if (!process.connected) endNow();
}

/**
 * Ends this spare process once stau, its parent, is gone, from a thread of its own: the
 * main thread may be held up for good by what it imports (a job file that loops at
 * import time), and then hears no 'disconnect'. (Not enough for a spare seen in CI whose
 * stau was killed as it started: its main thread waited for ever while setting up, and
 * no thread of it ran, this one included.)
 */
function watchParent(): void {
  const watcher = new Worker(
    `const { workerData: parent } = require("node:worker_threads");
     setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, "SIGKILL"); }, ${PARENT_CHECK_MS});`,
    { eval: true, workerData: process.ppid },
  );
  // It never keeps the spare running by itself.
  watcher.unref();
}
