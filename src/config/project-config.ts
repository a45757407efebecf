import { z } from "zod";
import type { DescribedConfig } from "./described.js";
import { parseDuration, type Duration } from "./duration.js";
import type { Problem } from "./problem.js";
import { zodProblems } from "./schema.js";

// `stau.config.ts`: what a project says about operations (notifications), validated as
// job configs are, every problem at once, each naming its field.

/** What a notification rule can be told of (README, "Notifications"). */
export const NOTIFY_EVENTS = ["run:failed", "run:done", "run:cancelled", "chunk:failed", "chunk:retrying", "schedule:skipped", "job:stale"] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** One rule of `notify`: which events, and where they go (a webhook or a command). */
export interface NotifyRule {
  /**
   * The events to send: `run:failed`, `run:done`, `run:cancelled`, `chunk:failed` (an
   * attempt failed for good), `chunk:retrying`, `schedule:skipped`, `job:stale` (a job's
   * last success is older than its `alertAfter`).
   * @example on: ["run:failed", "job:stale"]
   */
  on: NotifyEvent | NotifyEvent[];
  /** Only events of these jobs. Default: every job. */
  jobs?: string[];
  /**
   * POSTs the event as JSON, with a Slack-compatible `text`, to this URL.
   * @example webhook: process.env.SLACK_WEBHOOK_URL
   */
  webhook?: string;
  /** Headers of the webhook's POST (an authorization token). */
  headers?: Record<string, string>;
  /**
   * Runs this instead (a shell command line, or the program and its arguments) in the
   * project root, with the event's JSON on stdin.
   * @example command: ["./ops/page-oncall.sh"]
   */
  command?: string | string[];
  /** How long one delivery may take before it is abandoned and retried. Default `"10s"`. */
  timeout?: Duration;
  /** Further tries after a failed delivery, waiting 1s, 2s, 4s, … between them. Default 3. */
  retries?: number;
}

/** The default export of `stau.config.ts`, from `defineConfig({ ... })`. */
export interface StauConfig {
  /** Where to send which events; each event goes to every rule that takes it. */
  notify?: NotifyRule[];
  /**
   * How long finished runs and their logs are kept: `stau start` prunes older ones at
   * start and every hour, as `stau prune --older-than` does. Freshness is never pruned.
   * Default: kept for ever.
   * @example retention: "90d"
   */
  retention?: Duration;
}

/** A rule after validation: durations in ms, every option defaulted. */
export interface NotifyRuleSpec {
  readonly on: readonly NotifyEvent[];
  readonly jobs: readonly string[] | null;
  readonly target: { readonly webhook: string; readonly headers: Readonly<Record<string, string>> } | { readonly command: string | readonly string[] };
  readonly timeoutMs: number;
  readonly retries: number;
}

export interface ProjectConfigSpec {
  readonly notify: readonly NotifyRuleSpec[];
  /** Finished runs older than this are pruned; null keeps them. */
  readonly retentionMs: number | null;
}

const duration = z.union([z.string(), z.number()]).refine((value) => parseDuration(value) !== undefined, { message: 'expected a duration like "10s" or milliseconds' });
const event = z.enum(NOTIFY_EVENTS);
const rule = z
  .strictObject({
    on: z.union([event, z.array(event).min(1)]),
    jobs: z.array(z.string()).optional(),
    webhook: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    command: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    timeout: duration.optional(),
    retries: z.number().int().min(0).max(10).optional(),
  })
  .refine((r) => (r.webhook === undefined) !== (r.command === undefined), { message: "give exactly one of webhook and command" });
export const configSchema = z.strictObject({
  notify: z.array(rule).optional(),
  retention: duration.refine((value) => parseDuration(value)! > 0, { message: "expected a duration above 0, like \"90d\"" }).optional(),
});

export const EMPTY_CONFIG: ProjectConfigSpec = Object.freeze({ notify: [], retentionMs: null });

/** `stau.config.ts`'s default export → its spec, or every problem of it. */
export function validateProjectConfig(displayFile: string, described: DescribedConfig): { ok: true; value: ProjectConfigSpec } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const add = (field: string, message: string) => problems.push({ file: displayFile, field, message });
  if (typeof described.plain !== "object" || described.plain === null || Array.isArray(described.plain)) {
    add("", "default export must be an object from defineConfig({ ... })");
    return { ok: false, problems };
  }
  for (const path of described.functions) add(path, "must be plain data, received a function");
  for (const { path, received } of described.nonPlain) add(path, `must be plain data, received ${received}`);
  const parsed = configSchema.safeParse(described.plain, { reportInput: true });
  if (!parsed.success) for (const p of zodProblems(parsed.error, configSchema)) add(p.field, p.message);
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  const notify = (parsed.data.notify ?? []).map(
    (r): NotifyRuleSpec =>
      Object.freeze({
        on: Array.isArray(r.on) ? r.on : [r.on],
        jobs: r.jobs ?? null,
        target: r.webhook !== undefined ? { webhook: r.webhook, headers: r.headers ?? {} } : { command: r.command! },
        timeoutMs: r.timeout === undefined ? 10_000 : parseDuration(r.timeout)!,
        retries: r.retries ?? 3,
      }),
  );
  const retentionMs = parsed.data.retention === undefined ? null : parseDuration(parsed.data.retention)!;
  return { ok: true, value: Object.freeze({ notify, retentionMs }) };
}
