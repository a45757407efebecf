import { Worker } from "node:worker_threads";
import type { DescribedConfig } from "../config/described.js";
import type { Problem } from "../config/problem.js";
import { displayPath, type ProjectPaths } from "../config/project.js";
import type { JobSpec, ScheduleEntrySpec } from "../config/spec.js";
import { validateJob, validateSchedule } from "../config/validate.js";
import { workerFile } from "../worker-file.js";
import { discoverJobs } from "./discover.js";
import type { LoadResult } from "./load-worker.js";

/** Every job and the schedule of a project, as far as they could be read. */
export interface Registry {
  /** Valid jobs by name. */
  readonly jobs: ReadonlyMap<string, JobSpec>;
  /** Jobs that could not be loaded or validated, with every problem of each. */
  readonly broken: ReadonlyMap<string, readonly Problem[]>;
  /** Problems that belong to no single job (bad file names, duplicates). */
  readonly fileProblems: readonly Problem[];
  readonly schedule: { readonly entries: readonly ScheduleEntrySpec[]; readonly problems: readonly Problem[] };
  /** What each file's import gave, so a reload re-imports only what changed. */
  readonly loaded: ReadonlyMap<string, LoadResult>;
}

/** For a reload: the registry before, and the files to import again ("all" when a helper changed). */
export interface Reload {
  readonly previous: Registry;
  readonly changed: ReadonlySet<string> | "all";
  readonly spare?: SpareLoader;
}

const LOAD_TIMEOUT_MS = 60_000;

/**
 * Imports files in a throw-away worker thread and returns their described default
 * exports. `spare` is a worker started earlier with the loader already set up (see
 * SpareLoader), which takes the files instead of a cold one.
 */
export function loadInWorker(files: readonly string[], spare: Worker | null = null, timeoutMs = LOAD_TIMEOUT_MS): Promise<LoadResult[]> {
  if (files.length === 0) {
    if (spare) void spare.terminate();
    return Promise.resolve([]);
  }
  return new Promise((resolve, reject) => {
    const worker = spare ?? startLoader({ files });
    if (spare) spare.postMessage({ files });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`loading job files took longer than ${timeoutMs / 1000}s; does one of them wait at import time?`));
    }, timeoutMs);
    worker.once("message", (results: LoadResult[]) => {
      clearTimeout(timer);
      resolve(results);
      void worker.terminate();
    });
    worker.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function startLoader(request: { files: readonly string[] } | null): Worker {
  return new Worker(workerFile("./load-worker.js", import.meta.url), { workerData: request, stdout: true, stderr: true });
}

/**
 * Keeps one loading worker started and waiting, so a reload after a save does not pay
 * for a thread and the TypeScript loader (~250 ms here). Each spare is used once:
 * every reload still imports in a fresh thread that never saw the old code.
 */
export class SpareLoader {
  private spare: Worker | null = null;

  /** Makes sure a spare is starting or waiting. */
  warm(): void {
    if (this.spare) return;
    const spare = startLoader(null);
    spare.unref();
    // A spare that dies while waiting is simply replaced at the next take.
    spare.on("error", () => {
      if (this.spare === spare) this.spare = null;
    });
    this.spare = spare;
  }

  take(): Worker {
    const worker = this.spare ?? startLoader(null);
    this.spare = null;
    this.warm();
    return worker;
  }

  async close(): Promise<void> {
    await this.spare?.terminate();
    this.spare = null;
  }
}

function loadProblem(result: Extract<LoadResult, { ok: false }>, display: (file: string) => string): Problem {
  // An error in a helper names the helper's line, and the job that imports it.
  if (result.errorFile) {
    return { file: display(result.errorFile), field: "", message: `${result.message} (imported by ${display(result.file)})`, line: result.line, column: result.column };
  }
  return { file: display(result.file), field: "", message: result.message, line: result.line, column: result.column };
}

/**
 * Discovers, imports (in a fresh worker) and validates every job and the schedule. On a
 * reload only new and changed files are imported; the rest keep their earlier result.
 */
export async function loadRegistry(paths: ProjectPaths, reload?: Reload): Promise<Registry> {
  const display = (file: string) => displayPath(paths, file);
  const { files, problems: fileProblems } = discoverJobs(paths.jobsDir, display);
  const all = files.map((f) => f.file);
  if (paths.scheduleFile) all.push(paths.scheduleFile);
  const reuse = (file: string) => reload !== undefined && reload.changed !== "all" && !reload.changed.has(file) && reload.previous.loaded.has(file);
  const results = new Map<string, LoadResult>(all.filter(reuse).map((file) => [file, reload!.previous.loaded.get(file)!]));
  const toLoad = all.filter((file) => !reuse(file));
  for (const result of await loadInWorker(toLoad, toLoad.length && reload?.spare ? reload.spare.take() : null)) results.set(result.file, result);

  const jobs = new Map<string, JobSpec>();
  const broken = new Map<string, Problem[]>();
  for (const { name, file } of files) {
    const result = results.get(file)!;
    if (!result.ok) {
      broken.set(name, [loadProblem(result, display)]);
      continue;
    }
    const validated = validateJob(name, file, display(file), result.config);
    if (validated.ok) jobs.set(name, validated.value);
    else broken.set(name, validated.problems);
  }
  return { jobs, broken, fileProblems, schedule: readSchedule(paths, results, jobs, broken), loaded: results };
}

function readSchedule(
  paths: ProjectPaths,
  results: Map<string, LoadResult>,
  jobs: ReadonlyMap<string, JobSpec>,
  broken: ReadonlyMap<string, unknown>,
): Registry["schedule"] {
  if (!paths.scheduleFile) return { entries: [], problems: [] };
  const file = displayPath(paths, paths.scheduleFile);
  const result = results.get(paths.scheduleFile)!;
  if (!result.ok) return { entries: [], problems: [loadProblem(result, (f) => displayPath(paths, f))] };
  const validated = validateSchedule(file, result.config as DescribedConfig);
  if (!validated.ok) return { entries: [], problems: validated.problems };
  const problems: Problem[] = [];
  validated.value.forEach((entry, index) => {
    if (!jobs.has(entry.job) && !broken.has(entry.job)) {
      problems.push({ file, field: `${index}.job`, message: `entry ${JSON.stringify(entry.id)} names job ${JSON.stringify(entry.job)}, which is not a file in jobs/` });
    }
  });
  return { entries: problems.length ? [] : validated.value, problems };
}
