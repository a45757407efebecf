import { readFileSync } from "node:fs";
import { basename, relative } from "node:path";
import { Worker } from "node:worker_threads";
import type { DescribedConfig } from "../config/described.js";
import { withFieldLines } from "../config/field-lines.js";
import { formatProblem, type Problem } from "../config/problem.js";
import { displayPath, isProgramFile, jobNameOf, type ProjectPaths } from "../config/project.js";
import { ConfigError, UsageError } from "../errors.js";
import type { JobSpec, ScheduleEntrySpec } from "../config/spec.js";
import { validateJob, validateSchedule, type Validated } from "../config/validate.js";
import { nearest } from "../did-you-mean.js";
import { workerFile } from "../worker-file.js";
import { discoverJobs } from "./discover.js";
import type { LoadRequest, LoadResult } from "./load-worker.js";
import type { SpareLoader } from "./spare-loader.js";
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

/** A thread or process importing job files, from the side that waits for its answer. */
export interface LoadingWorker {
  /** Rejects when it fails or ends without an answer. */
  readonly results: Promise<LoadResult[]>;
  stop(): void;
}

const LOAD_TIMEOUT_MS = 60_000;

/**
 * Imports files in a throw-away worker and returns their described default exports:
 * in a fresh thread, or in `spare`'s waiting process (hot reload, see SpareLoader).
 */
export function loadInWorker(files: readonly string[], spare: SpareLoader | null = null, timeoutMs = LOAD_TIMEOUT_MS): Promise<LoadResult[]> {
  if (files.length === 0) return Promise.resolve([]);
  const worker = spare ? spare.load(files) : loadInThread(files);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      worker.stop();
      reject(new Error(`loading job files took longer than ${timeoutMs / 1000}s; does one of them wait at import time?`));
    }, timeoutMs);
  });
  return Promise.race([worker.results, timeout]).finally(() => clearTimeout(timer));
}

function loadInThread(files: readonly string[]): LoadingWorker {
  const request: LoadRequest = { files };
  const worker = new Worker(workerFile("./load-worker.js", import.meta.url), { workerData: request, stdout: true, stderr: true });
  const results = new Promise<LoadResult[]>((resolve, reject) => {
    // The worker ends by itself once it has sent its results (load-worker.ts).
    worker.once("message", resolve);
    worker.once("error", reject);
    // Messages sent before a thread ended arrive before its exit.
    worker.once("exit", (code) => reject(endedWithoutAnswer(files, `exit code ${code}`)));
  });
  return { results, stop: () => void worker.terminate() };
}

/**
 * A loading thread or process ended without its answer: something the files run at
 * import time ended it (process.exit is caught and blamed on its file, see load-worker.ts).
 */
export function endedWithoutAnswer(files: readonly string[], how: string, output = ""): ConfigError {
  const shown = files.slice(0, 5).map((file) => relative(process.cwd(), file));
  const list = `${shown.join(", ")}${files.length > shown.length ? ` and ${files.length - shown.length} more` : ""}`;
  return new ConfigError(
    `loading ${list} ended before it answered (${how})${output ? `:\n${output}` : ""}`,
    "a job file, or a module it imports, ends the process at import time (process.kill, a crash in native code); stau validate loads the files the same way",
  );
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
  for (const result of await loadInWorker(toLoad, reload?.spare)) results.set(result.file, result);
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
