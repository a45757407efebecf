import { z } from "zod";
import { parseDuration } from "./duration.js";

// Schemas of the plain-data part of job and schedule configs. Functions are checked
// separately (see described.ts), so they do not appear here.

export const JOB_NAME = /^[A-Za-z0-9_-]+$/;

const duration = z.union([z.string(), z.number()]).superRefine((value, ctx) => {
  if (parseDuration(value) === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration like "90s", "15m", "1h", "1d" or milliseconds ≥ 0, received ${JSON.stringify(value)}`,
    });
  }
});

const kwargs = z.record(z.string(), z.unknown());
const workId = z.union([z.string(), z.number().finite()]);

const dependency = z.strictObject({
  job: z.string().regex(JOB_NAME, "expected a job name (letters, digits, _ and -)"),
  maxLag: duration,
  allowMissingWorkIds: z.boolean().optional(),
  kwargs: kwargs.optional(),
  unique: z.boolean().optional(),
});

export const jobSchema = z.strictObject({
  chunkSize: z.number().int().positive().optional(),
  dependencies: z.array(dependency).optional(),
  retries: z.number().int().min(0).optional(),
  retryDelay: duration.optional(),
  timeout: duration.optional(),
  allowConcurrentRuns: z.boolean().optional(),
  reads: z.array(z.string()).optional(),
  writes: z.array(z.string()).optional(),
});

export const scheduleEntrySchema = z.strictObject({
  id: z.string().min(1),
  job: z.string().regex(JOB_NAME, "expected a job name (letters, digits, _ and -)"),
  cron: z.string().min(1).optional(),
  every: duration.optional(),
  kwargs: kwargs.optional(),
  workIds: z.array(workId).optional(),
  timezone: z.string().min(1).optional(),
  catchUp: z.boolean().optional(),
  enabled: z.boolean().optional(),
});

/** Zod issues as (field, message) pairs, with what was received spelled out. */
export function zodProblems(error: z.ZodError, prefix = ""): { field: string; message: string }[] {
  return error.issues.map((issue) => {
    const field = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    let message = issue.message;
    if (issue.code === "unrecognized_keys") {
      message = `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    } else if ("input" in issue && issue.code !== "custom") {
      // Zod names only the type it received; the value itself says more.
      message = `${message.replace(/,? received \S+$/, "")}, received ${describeValue(issue.input)}`;
    }
    return { field, message };
  });
}

export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return String(value);
  }
}
