import { z } from "zod";
import { didYouMean } from "../did-you-mean.js";
import { parseDuration } from "./duration.js";

// Schemas of the plain-data part of job and schedule configs. Functions are checked
// separately (see described.ts), so they do not appear here.

export const JOB_NAME = /^[A-Za-z0-9_-]+$/;

const DURATION = `expected a duration like "90s", "15m", "1h", "1d" or milliseconds ≥ 0`;
// Neither a string nor a number (a TOML `true`) gets the same message as a bad string.
const duration = z.union([z.string(), z.number()], { error: DURATION }).superRefine((value, ctx) => {
  if (parseDuration(value) === undefined) {
    ctx.addIssue({ code: "custom", message: `${DURATION}, received ${JSON.stringify(value)}` });
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
  codeAware: z.boolean().optional(),
});

export const jobSchema = z.strictObject({
  chunkSize: z.number().int().positive().optional(),
  dependencies: z.array(dependency).optional(),
  retries: z.number().int().min(0).optional(),
  retryDelay: duration.optional(),
  timeout: duration.optional(),
  allowConcurrentRuns: z.boolean().optional(),
  concurrency: z.number().int().positive().optional(),
  alertAfter: duration.optional(),
  reads: z.array(z.string()).optional(),
  writes: z.array(z.string()).optional(),
  command: z.array(z.string().min(1, "expected a non-empty string")).min(1, "expected the program and its arguments, like [\"dbt\", \"run\"]").optional(),
});

/**
 * The config block of a program file (`# /// stau` in a .py, .sh or .R job): a job's
 * fields, with `selectWork` a switch (the program answers the select-work phase) and no
 * `command` (the program is the file itself).
 */
export const programSchema = jobSchema.omit({ command: true }).extend({ selectWork: z.boolean().optional() });

export const scheduleEntrySchema = z.strictObject({
  id: z.string().min(1),
  job: z.string().regex(JOB_NAME, "expected a job name (letters, digits, _ and -)"),
  cron: z.string().min(1).optional(),
  every: duration.optional(),
  onFiles: z.string().min(1).optional(),
  kwargs: kwargs.optional(),
  workIds: z.array(workId).optional(),
  timezone: z.string().min(1).optional(),
  catchUp: z.boolean().optional(),
  enabled: z.boolean().optional(),
});

/**
 * Zod issues as (field, message) pairs, with what was received spelled out. An unknown
 * field is named as the field itself, with the known field it is probably a typo of:
 * `known` lists the fields an object at that path may have (`extra` for the functions
 * of a job, which the schema leaves out).
 */
export function zodProblems(error: z.ZodError, schema: z.ZodType, prefix = "", extra: readonly string[] = []): { field: string; message: string }[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    const field = (path: readonly string[]) => [prefix, ...path].filter(Boolean).join(".");
    if (issue.code === "unrecognized_keys") {
      const known = [...fieldsAt(schema, at), ...(at.length === 0 ? extra : [])];
      return issue.keys.map((key) => ({ field: field([...at, key]), message: `unknown field${didYouMean(key, known) || ` (known: ${known.join(", ")})`}` }));
    }
    let message = issue.message;
    if (issue.code === "invalid_type" && issue.input === undefined) {
      // Zod's "Invalid input: expected string, received nothing" for a field left out.
      message = `required, missing (expected ${issue.expected})`;
    } else if ("input" in issue && issue.code !== "custom") {
      // Zod names only the type it received; the value itself says more.
      message = `${message.replace(/,? received \S+$/, "")}, received ${describeValue(issue.input)}`;
    }
    return [{ field: field(at), message }];
  });
}

/** The fields an object at `path` (object keys, array indexes) inside `schema` may have. */
function fieldsAt(schema: z.ZodType, path: readonly string[]): string[] {
  let at: z.ZodType = schema;
  for (const step of path) {
    while (at instanceof z.ZodOptional) at = at.unwrap() as z.ZodType;
    if (at instanceof z.ZodArray) at = at.element as z.ZodType;
    else if (at instanceof z.ZodObject) at = (at.shape as Record<string, z.ZodType>)[step] ?? z.never();
    else return [];
  }
  while (at instanceof z.ZodOptional) at = at.unwrap() as z.ZodType;
  return at instanceof z.ZodObject ? Object.keys(at.shape) : [];
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
