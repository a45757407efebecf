import { Cron } from "croner";
import type { DescribedConfig } from "./described.js";
import { parseDuration } from "./duration.js";
import type { Problem } from "./problem.js";
import { jobSchema, scheduleEntrySchema, zodProblems } from "./schema.js";
import { DEFAULT_RETRY_DELAY_MS, type JobSpec, type ScheduleEntrySpec } from "./spec.js";

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
  if (!described.functions.includes("run")) {
    const plainRun = (described.plain as Record<string, unknown>).run;
    add("run", `expected a function run(context), received ${plainRun === undefined ? "nothing" : JSON.stringify(plainRun)}`);
  }
  const plain = { ...(described.plain as Record<string, unknown>) };
  for (const key of JOB_FUNCTIONS) delete plain[key];
  const parsed = jobSchema.safeParse(plain, { reportInput: true });
  if (!parsed.success) for (const p of zodProblems(parsed.error)) add(p.field, p.message);
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };

  const config = parsed.data;
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
      }),
    ),
    retries: config.retries ?? 0,
    retryDelayMs: config.retryDelay === undefined ? DEFAULT_RETRY_DELAY_MS : parseDuration(config.retryDelay)!,
    timeoutMs: config.timeout === undefined ? null : parseDuration(config.timeout)!,
    allowConcurrentRuns: config.allowConcurrentRuns ?? false,
    reads: config.reads ?? [],
    writes: config.writes ?? [],
    hasSelectWork: described.functions.includes("selectWork"),
  };
  return { ok: true, value: Object.freeze(spec) };
}

/** `stau.schedule.ts`'s default export → entries, or every problem in it at once. */
export function validateSchedule(displayFile: string, described: DescribedConfig): Validated<ScheduleEntrySpec[]> {
  const problems: Problem[] = [];
  const add = (field: string, message: string) => problems.push({ file: displayFile, field, message });
  for (const path of described.functions) add(path, "must be plain data, received a function");
  for (const { path, received } of described.nonPlain) add(path, `must be plain data, received ${received}`);
  if (!Array.isArray(described.plain)) {
    add("", `default export must be an array from defineSchedule([ ... ]), received ${JSON.stringify(described.plain) ?? "nothing"}`);
    return { ok: false, problems };
  }
  const entries: ScheduleEntrySpec[] = [];
  const seen = new Set<string>();
  described.plain.forEach((raw, index) => {
    const parsed = scheduleEntrySchema.safeParse(raw, { reportInput: true });
    if (!parsed.success) {
      for (const p of zodProblems(parsed.error, String(index))) add(p.field, p.message);
      return;
    }
    const entry = parsed.data;
    const at = `${index}`;
    if (seen.has(entry.id)) add(`${at}.id`, `duplicate entry id ${JSON.stringify(entry.id)}; ids must be unique`);
    seen.add(entry.id);
    if ((entry.cron === undefined) === (entry.every === undefined)) {
      add(at, `entry ${JSON.stringify(entry.id)} needs exactly one of cron and every`);
      return;
    }
    if (entry.timezone !== undefined && !isTimeZone(entry.timezone)) {
      add(`${at}.timezone`, `expected an IANA time zone like "Europe/Copenhagen", received ${JSON.stringify(entry.timezone)}`);
    }
    if (entry.cron !== undefined) {
      const fields = entry.cron.trim().split(/\s+/).length;
      const cronError = fields === 5 || fields === 6 ? cronProblem(entry.cron) : `expected 5 or 6 fields, received ${fields}`;
      if (cronError) add(`${at}.cron`, `invalid cron expression ${JSON.stringify(entry.cron)}: ${cronError}`);
    }
    entries.push(
      Object.freeze({
        id: entry.id,
        job: entry.job,
        cron: entry.cron ?? null,
        everyMs: entry.every === undefined ? null : parseDuration(entry.every)!,
        kwargs: entry.kwargs ?? {},
        workIds: entry.workIds ?? null,
        timezone: entry.timezone ?? null,
        catchUp: entry.catchUp ?? true,
        enabled: entry.enabled ?? true,
      }),
    );
  });
  if (entries.some((e) => e.everyMs === 0)) {
    const index = entries.findIndex((e) => e.everyMs === 0);
    add(`${index}.every`, "expected an interval greater than 0, received 0");
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: entries };
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
