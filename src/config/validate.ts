import { isAbsolute } from "node:path";
import { Cron } from "croner";
import type { DescribedConfig } from "./described.js";
import { parseDuration } from "./duration.js";
import type { Problem } from "./problem.js";
import type { z } from "zod";
import { JOB_NAME, jobSchema, programSchema, scheduleEntrySchema, zodProblems } from "./schema.js";
import { DEFAULT_RETRY_DELAY_MS, type JobSpec, type ProgramSpec, type ScheduleEntrySpec } from "./spec.js";

const JOB_FUNCTIONS = new Set(["run", "selectWork"]);

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

/** A job file's default export → a frozen JobSpec, or every problem in it at once. */
export function validateJob(name: string, file: string, displayFile: string, described: DescribedConfig): Validated<JobSpec> {
  const problems: Problem[] = [];
  const add = (field: string, message: string) => problems.push({ file: displayFile, field, message });

  if (described.plain === undefined && described.functions.length === 0) {
    add("", "has no default export; expected `export default defineJob({ ... })`");
    return { ok: false, problems };
  }
  if (typeof described.plain !== "object" || described.plain === null || Array.isArray(described.plain)) {
    add("", `default export must be an object from defineJob({ ... }), received ${JSON.stringify(described.plain)}`);
    return { ok: false, problems };
  }
  for (const path of described.functions) {
    if (!JOB_FUNCTIONS.has(path)) add(path, "must be plain data (only run and selectWork may be functions), received a function");
  }
  for (const { path, received } of described.nonPlain) add(path, `must be plain data, received ${received}`);
  // A program that lives elsewhere (dbt, a CLI) is given as `command` instead of run.
  const hasCommand = (described.plain as Record<string, unknown>).command !== undefined;
  if (described.functions.includes("run") && hasCommand) add("command", "give either run or command, not both");
  if (!described.functions.includes("run") && !hasCommand) {
    const plainRun = (described.plain as Record<string, unknown>).run;
    add("run", `expected a function run(context) or a command: ["program", "arg", …], received ${plainRun === undefined ? "nothing" : JSON.stringify(plainRun)}`);
  }
  const plain = { ...(described.plain as Record<string, unknown>) };
  for (const key of JOB_FUNCTIONS) delete plain[key];
  const parsed = jobSchema.safeParse(plain, { reportInput: true });
  if (!parsed.success) for (const p of zodProblems(parsed.error, jobSchema, "", [...JOB_FUNCTIONS])) add(p.field, p.message);
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  const { command, ...config } = parsed.data;
  const program = command ? { argv: command, selectsWork: false } : undefined;
  return { ok: true, value: jobSpec(name, file, config, described.functions.includes("selectWork"), program) };
}

/** A program file's config block (see programs/config-block.ts) → a frozen JobSpec, or every problem in it. */
export function validateProgram(name: string, file: string, displayFile: string, block: unknown, argv: readonly string[]): Validated<JobSpec> {
  const parsed = programSchema.safeParse(block, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error, programSchema).map((p) => ({ file: displayFile, ...p })) };
  const { selectWork, ...config } = parsed.data;
  return { ok: true, value: jobSpec(name, file, config, selectWork ?? false, { argv, selectsWork: selectWork ?? false }) };
}

/** The one place a job's validated fields get their defaults. */
function jobSpec(name: string, file: string, config: Omit<z.infer<typeof jobSchema>, "command">, hasSelectWork: boolean, program: ProgramSpec | undefined): JobSpec {
  const spec: JobSpec = {
    name,
    file,
    chunkSize: config.chunkSize ?? null,
    dependencies: (config.dependencies ?? []).map((dep) =>
      Object.freeze({
        job: dep.job,
        maxLagMs: parseDuration(dep.maxLag)!,
        allowMissingWorkIds: dep.allowMissingWorkIds ?? false,
        kwargs: dep.kwargs ?? {},
        unique: dep.unique ?? false,
        codeAware: dep.codeAware ?? false,
      }),
    ),
    retries: config.retries ?? 0,
    retryDelayMs: config.retryDelay === undefined ? DEFAULT_RETRY_DELAY_MS : parseDuration(config.retryDelay)!,
    timeoutMs: config.timeout === undefined ? null : parseDuration(config.timeout)!,
    allowConcurrentRuns: config.allowConcurrentRuns ?? false,
    concurrency: config.concurrency ?? null,
    alertAfterMs: config.alertAfter === undefined ? null : parseDuration(config.alertAfter)!,
    reads: config.reads ?? [],
    writes: config.writes ?? [],
    hasSelectWork,
    ...(program ? { program: Object.freeze({ ...program, argv: Object.freeze([...program.argv]) }) } : {}),
  };
  return Object.freeze(spec);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * `stau.schedule.ts`'s default export → its good entries, and every problem of every bad
 * one at once, each naming its entry. One bad entry (a deleted job, a bad `every`) costs
 * only itself: the others are still scheduled. `jobProblem` says why a job name cannot
 * be scheduled (no such file), or null.
 */
export function validateSchedule(
  displayFile: string,
  described: DescribedConfig,
  jobProblem: (name: string) => string | null = () => null,
): { entries: ScheduleEntrySpec[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const add = (field: string, message: string) => problems.push({ file: displayFile, field, message });
  // Functions and other non-plain values, by the entry they are in ("" for the file as a whole).
  const foreign = new Map<string, { field: string; message: string }[]>();
  const note = (path: string, message: string) => {
    const at = path.split(".")[0]!;
    foreign.set(at, [...(foreign.get(at) ?? []), { field: path, message }]);
  };
  for (const path of described.functions) note(path, "must be plain data, received a function");
  for (const { path, received } of described.nonPlain) note(path, `must be plain data, received ${received}`);
  if (!Array.isArray(described.plain)) {
    for (const list of foreign.values()) for (const p of list) add(p.field, p.message);
    add("", `default export must be an array from defineSchedule([ ... ]), received ${JSON.stringify(described.plain) ?? "nothing"}`);
    return { entries: [], problems };
  }
  for (const p of foreign.get("") ?? []) add(p.field, p.message);
  const entries: ScheduleEntrySpec[] = [];
  const seen = new Set<string>();
  described.plain.forEach((raw, index) => {
    const at = String(index);
    const own = [...(foreign.get(at) ?? [])];
    const parsed = scheduleEntrySchema.safeParse(raw, { reportInput: true });
    if (!parsed.success) own.push(...zodProblems(parsed.error, scheduleEntrySchema, at));
    // The checks zod cannot make, on whichever fields have the right type, so one look lists everything.
    const r = isObject(raw) ? raw : {};
    const id = typeof r.id === "string" && r.id !== "" ? r.id : null;
    if (id !== null && seen.has(id)) own.push({ field: `${at}.id`, message: `duplicate entry id ${JSON.stringify(id)}; ids must be unique` });
    if (id !== null) seen.add(id);
    if (isObject(raw) && [r.cron, r.every, r.onFiles].filter((v) => v !== undefined).length !== 1) own.push({ field: at, message: "needs exactly one of cron, every and onFiles" });
    if (typeof r.onFiles === "string" && r.onFiles !== "") {
      const outside = isAbsolute(r.onFiles) || r.onFiles.split("/").includes("..");
      if (outside) own.push({ field: `${at}.onFiles`, message: `expected a glob relative to the project root, like "inbox/*.csv", received ${JSON.stringify(r.onFiles)}` });
    }
    if (typeof r.timezone === "string" && r.timezone !== "" && !isTimeZone(r.timezone)) {
      own.push({ field: `${at}.timezone`, message: `expected an IANA time zone like "Europe/Copenhagen", received ${JSON.stringify(r.timezone)}` });
    }
    if (typeof r.cron === "string" && r.cron.trim() !== "") {
      const fields = r.cron.trim().split(/\s+/).length;
      const cronError = fields === 5 || fields === 6 ? cronProblem(r.cron) : `expected 5 or 6 fields, received ${fields}`;
      if (cronError) own.push({ field: `${at}.cron`, message: `invalid cron expression ${JSON.stringify(r.cron)}: ${cronError}` });
    }
    if ((typeof r.every === "string" || typeof r.every === "number") && parseDuration(r.every) === 0) {
      own.push({ field: `${at}.every`, message: "expected an interval greater than 0, received 0" });
    }
    const jobIssue = typeof r.job === "string" && JOB_NAME.test(r.job) ? jobProblem(r.job) : null;
    if (jobIssue) own.push({ field: `${at}.job`, message: jobIssue });
    if (own.length > 0 || !parsed.success) {
      const label = `entry ${id === null ? `#${index + 1}` : JSON.stringify(id)}`;
      for (const p of own) add(p.field, `${label}: ${p.message}`);
      return;
    }
    const entry = parsed.data;
    entries.push(
      Object.freeze({
        id: entry.id,
        job: entry.job,
        cron: entry.cron ?? null,
        everyMs: entry.every === undefined ? null : parseDuration(entry.every)!,
        onFiles: entry.onFiles ?? null,
        kwargs: entry.kwargs ?? {},
        workIds: entry.workIds ?? null,
        timezone: entry.timezone ?? null,
        catchUp: entry.catchUp ?? true,
        enabled: entry.enabled ?? true,
      }),
    );
  });
  return { entries, problems };
}

function cronProblem(expression: string): string | undefined {
  try {
    new Cron(expression, { paused: true }).stop();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
