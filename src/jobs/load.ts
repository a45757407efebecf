import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { Worker } from "node:worker_threads";
import type { DescribedConfig } from "../config/described.js";
import { withFieldLines } from "../config/field-lines.js";
import { formatProblem, type Problem } from "../config/problem.js";
import { displayPath, isProgramFile, jobNameOf, type ProjectPaths } from "../config/project.js";
import { UsageError } from "../errors.js";
import type { JobSpec, ScheduleEntrySpec } from "../config/spec.js";
import { validateJob, validateSchedule, type Validated } from "../config/validate.js";
import { nearest } from "../did-you-mean.js";
import { workerFile } from "../worker-file.js";
import { discoverJobs } from "./discover.js";
import type { LoadRequest, LoadResult, SpareRequest } from "./load-worker.js";
import { commonJsTrap } from "./module-type.js";

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
const SPARE_END_MS = 5_000;

/**
 * Imports files in a throw-away worker thread and returns their described default
 * exports. `spare` is a worker started earlier with the loader already set up (see
 * SpareLoader), which takes the files instead of a cold one.
 */
export function loadInWorker(files: readonly string[], spare: Worker | null = null, timeoutMs = LOAD_TIMEOUT_MS): Promise<LoadResult[]> {
  if (files.length === 0) {
    if (spare) void endSpare(spare);
    return Promise.resolve([]);
  }
  return new Promise((resolve, reject) => {
    const worker = spare ?? startLoader({ files });
    if (spare) spare.postMessage({ files });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`loading job files took longer than ${timeoutMs / 1000}s; does one of them wait at import time?`));
    }, timeoutMs);
    // The worker ends by itself once it has sent its results (load-worker.ts).
    worker.once("message", (results: LoadResult[]) => {
      clearTimeout(timer);
      resolve(results);
    });
    worker.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function startLoader(request: LoadRequest | SpareRequest): Worker {
  return new Worker(workerFile("./load-worker.js", import.meta.url), { workerData: request, stdout: true, stderr: true });
}

/**
 * Keeps one loading worker started and waiting, so a reload after a save does not pay
 * for a thread and the TypeScript loader (~250 ms here), nor for importing "stau" and
 * starting esbuild (~35 ms of the ~45 one changed file took without them): a waiting
 * spare keeps one idle esbuild process. Each spare is used once: every reload still
 * imports in a fresh thread that never saw the old code.
 */
export class SpareLoader {
  private spare: Worker | null = null;

  /** `jobsDir`: the project's, whose import of "stau" a spare makes ahead. */
  constructor(private readonly jobsDir: string) {}

  /** Makes sure a spare is starting or waiting. */
  warm(): void {
    if (this.spare) return;
    const spare = startLoader({ spareFor: this.jobsDir });
    spare.unref();
    // A spare that dies while waiting is simply replaced at the next take.
    spare.on("error", () => {
      if (this.spare === spare) this.spare = null;
    });
    this.spare = spare;
  }

  take(): Worker {
    const worker = this.spare ?? startLoader({ spareFor: this.jobsDir });
    this.spare = null;
    this.warm();
    return worker;
  }

  async close(): Promise<void> {
    const spare = this.spare;
    this.spare = null;
    if (spare) await endSpare(spare);
  }
}

/**
 * Ends a spare that was never given files: asked, it stops its esbuild and ends itself
 * (terminated, it would leave esbuild a zombie of this process); terminated when it
 * does not answer in time.
 */
function endSpare(spare: Worker): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => void spare.terminate().finally(resolve), SPARE_END_MS);
    spare.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    spare.postMessage({ files: [] });
  });
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
  // Programs are not imported: their config is read from their text (programs/load.ts).
  const all = files.filter((f) => !isProgramFile(f.file)).map((f) => f.file);
  if (paths.scheduleFile) all.push(paths.scheduleFile);
  const reuse = (file: string) => reload !== undefined && reload.changed !== "all" && !reload.changed.has(file) && reload.previous.loaded.has(file);
  const results = new Map<string, LoadResult>(all.filter(reuse).map((file) => [file, reload!.previous.loaded.get(file)!]));
  const toLoad = all.filter((file) => !reuse(file));
  for (const result of await loadInWorker(toLoad, toLoad.length && reload?.spare ? reload.spare.take() : null)) results.set(result.file, result);
  // A project-wide mistake, not a problem of each job: said once, and nothing runs.
  const trap = commonJsTrap(results.values(), display);
  if (trap) throw trap;

  // The TOML parser of program files is loaded only for a project that has one.
  const programs = files.some((f) => isProgramFile(f.file)) ? await import("../programs/load.js") : null;
  const jobs = new Map<string, JobSpec>();
  const broken = new Map<string, Problem[]>();
  for (const { name, file } of files) {
    if (isProgramFile(file)) {
      const program = programs!.loadProgram(name, file, display(file));
      if (program.ok) jobs.set(name, program.value);
      else broken.set(name, program.problems);
      continue;
    }
    const result = results.get(file)!;
    if (!result.ok) {
      broken.set(name, [loadProblem(result, display)]);
      continue;
    }
    const validated = validateOnce(name, file, display, result);
    if (validated.ok) jobs.set(name, validated.value);
    else broken.set(name, validated.problems);
  }
  return { jobs, broken, fileProblems, schedule: readSchedule(paths, results, { jobs, broken, fileProblems }), loaded: results };
}

/** Each import's validation, kept as long as its result is: a reload validates only the files it imported again. */
const validations = new WeakMap<LoadResult, Validated<JobSpec>>();

function validateOnce(name: string, file: string, display: (file: string) => string, result: Extract<LoadResult, { ok: true }>): Validated<JobSpec> {
  let known = validations.get(result);
  if (!known) {
    const validated = validateJob(name, file, display(file), result.config);
    known = validated.ok ? validated : { ok: false, problems: locate(validated.problems, file) };
    validations.set(result, known);
  }
  return known;
}

function readSchedule(
  paths: ProjectPaths,
  results: Map<string, LoadResult>,
  names: JobNames,
): Registry["schedule"] {
  if (!paths.scheduleFile) return { entries: [], problems: [] };
  const file = displayPath(paths, paths.scheduleFile);
  const result = results.get(paths.scheduleFile)!;
  if (!result.ok) return { entries: [], problems: [loadProblem(result, (f) => displayPath(paths, f))] };
  // A broken job's entries stay: their ticks are skipped (and said so) until its file is fixed.
  const { entries, problems } = validateSchedule(file, result.config as DescribedConfig, (name) => {
    const problem = jobProblem(names, name);
    if (!problem || problem.kind === "broken") return null;
    if (problem.kind === "file") return `names job ${JSON.stringify(name)}, which has no single file in jobs/ (see the problems of its files)`;
    return `names job ${JSON.stringify(name)}, which is not a file in jobs/${problem.nearest ? `; did you mean ${JSON.stringify(problem.nearest)}?` : ""}`;
  });
  return { entries, problems: locate(problems, paths.scheduleFile) };
}

/** Why a name given on the command line (or in an order) is not a job that can run: a usage error, exit 2. */
export class JobProblem extends UsageError {
  constructor(
    /** unknown: no file; file: its file(s) cannot be a job (two files share the name, a bad name); broken: it does not load. */
    readonly kind: "unknown" | "file" | "broken",
    message: string,
    hint: string,
    /** For an unknown name: the job it is probably a typo of. */
    readonly nearest: string | null = null,
  ) {
    super(message, hint);
    this.name = "JobProblem";
  }
}

/** The job names of a project from its file names alone, without loading a file: enough for jobProblem's unknown and file kinds. */
export function discoverJobNames(paths: ProjectPaths): JobNames {
  const { files, problems } = discoverJobs(paths.jobsDir, (file) => displayPath(paths, file));
  return { jobs: new Map(files.map((f) => [f.name, f])), broken: new Map(), fileProblems: problems };
}

/** What jobProblem needs of a registry (discovery alone gives it, without loading a file). */
export interface JobNames {
  readonly jobs: ReadonlyMap<string, unknown>;
  readonly broken: ReadonlyMap<string, readonly Problem[]>;
  readonly fileProblems: readonly Problem[];
}

/** The job a file's problem is about (two files sharing a name, a name no job may have): the name its file gives. */
export function jobOfFileProblem(problem: Problem): string {
  return jobNameOf(basename(problem.file)) ?? basename(problem.file);
}

/**
 * Why `name` cannot be run or looked at as a job, or null when it is a job that loads:
 * no such file (with the nearest name, if one is close), a name two files share or a
 * file name that cannot be a job (every file named), or a file that does not load (its
 * problems). Every command that takes a job name asks here, so they all say the same.
 */
export function jobProblem(registry: JobNames, name: string): JobProblem | null {
  if (registry.jobs.has(name)) return null;
  const broken = registry.broken.get(name);
  if (broken) {
    return new JobProblem("broken", `job ${name} cannot be loaded:\n${broken.map(formatProblem).join("\n")}`, "fix the file (stau validate lists every problem), then try again");
  }
  const files = registry.fileProblems.filter((p) => jobOfFileProblem(p) === name);
  if (files.length > 0) {
    // A problem reported for each file it involves (two files, one name) names them all: say it once.
    const messages = [...new Set(files.map((p) => p.message))].map((message) => {
      const of = files.filter((p) => p.message === message);
      return of.length > 1 ? message : formatProblem(of[0]!);
    });
    // Each message says its own fix (rename, keep one, point the link): the hint only says where to see them all.
    return new JobProblem("file", messages.join("\n"), "stau validate lists every problem in jobs/");
  }
  const names = [...registry.jobs.keys(), ...registry.broken.keys()].sort();
  const near = nearest(name, names);
  const list = `jobs are the files in jobs/: ${names.join(", ") || "none yet"}`;
  return new JobProblem("unknown", `unknown job ${JSON.stringify(name)}${near ? `; did you mean ${JSON.stringify(near)}?` : ""}`, list, near);
}

/** A config's problems with the line of each field, read from its file (only when something is wrong). */
function locate(problems: readonly Problem[], file: string): Problem[] {
  if (problems.length === 0) return [...problems];
  try {
    return withFieldLines(problems, readFileSync(file, "utf8"));
  } catch {
    return [...problems];
  }
}
