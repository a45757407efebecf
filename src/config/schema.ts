import { z } from "zod";
import { didYouMean } from "../did-you-mean.js";
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
