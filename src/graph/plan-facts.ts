import { formatDuration } from "../config/duration.js";
import type { Kwargs, WorkId } from "../config/types.js";
import { kwargsKey } from "./kwargs-key.js";
import type { FreshnessView, JobPlanStatus, Plan, PlannedEdge } from "./types.js";

// Why each node of a plan runs or not (README "Plans that say why"). One owner for
// `stau plan`, `stau explain` and the console's plan dialog, so the three never disagree.
// Computed after resolve() from the plan it made, keeping the resolver's hot loops lean.

/** What a plan knows about one job under one kwargs. */
export interface JobFacts {
  readonly job: string;
  readonly kwargs: Kwargs;
  readonly status: JobPlanStatus;
  /** Chunks of this node (not of every node of its job). */
  readonly chunks: number;
  /** Of the work IDs its parents need it on: how many it runs on (stale) and how many are fresh. */
  readonly staleIds: number;
  readonly freshIds: number;
  /** Its newest success under these kwargs on any IDs (epoch ms), or null. */
  readonly lastSuccess: number | null;
  /** When its fresh part goes stale for the edges that asked for it (epoch ms), or null when none is fresh. */
  readonly freshUntil: number | null;
  readonly reason: string;
}

/** The facts of every node of `plan`, in `plan.jobs` order; `codeHashes` as resolve() was given them. */
export function planFacts(plan: Plan, freshness: FreshnessView, now: number, codeHashes?: ReadonlyMap<string, string>): JobFacts[] {
  const hasIds = plan.workIds !== null;
  const ids = plan.workIds ?? [];
  const position = new Map<WorkId, number>(ids.map((id, p) => [id, p]));
  // What each node runs on, as positions in the plan's work IDs.
  const ran = plan.jobs.map(() => new Set<number>());
  const chunks = plan.jobs.map(() => 0);
  for (const chunk of plan.chunks) {
    chunks[chunk.node]++;
    for (const id of chunk.workIds) ran[chunk.node].add(position.get(id)!);
  }
  const incoming = plan.jobs.map((): PlannedEdge[] => []);
  for (const edge of plan.edges) if (chunks[edge.parent] > 0) incoming[edge.child].push(edge);

  return plan.jobs.map((node, index): JobFacts => {
    const key = kwargsKey(node.kwargs);
    const lastSuccess = freshness.lastSuccess(node.job, key, null) ?? null;
    const base = { job: node.job, kwargs: node.kwargs, status: node.status, chunks: chunks[index], lastSuccess };
    if (index === 0) return { ...base, staleIds: ran[0].size, freshIds: 0, freshUntil: null, reason: "the triggered job always runs" };
    if (node.status === "skipped") return { ...base, staleIds: 0, freshIds: 0, freshUntil: null, reason: "only needed by jobs that are fresh" };
    const asking = incoming[index];
    const needed = new Set<number>();
    for (const edge of asking) for (const p of ran[edge.parent]) needed.add(p);
    const stale = ran[index].size;
    const fresh = needed.size - stale;

    // The fresh part stays fresh until the first edge's maxLag runs out on it.
    let freshUntil = Infinity;
    for (const { parent, dep } of asking) {
      if (dep.maxLagMs === 0) continue;
      if (!hasIds || dep.allowMissingWorkIds) {
        const any = lastSuccess ?? -Infinity;
        if (any + dep.maxLagMs >= now) freshUntil = Math.min(freshUntil, any + dep.maxLagMs);
        continue;
      }
      for (const p of ran[parent]) {
        if (ran[index].has(p)) continue;
        const at = freshness.lastSuccess(node.job, key, ids[p]);
        if (at !== undefined) freshUntil = Math.min(freshUntil, at + dep.maxLagMs);
      }
    }
    // Without work IDs a job is one chunk: when it runs, no part of it stays fresh.
    const until = freshUntil === Infinity || (node.status === "run" && !hasIds) ? null : freshUntil;
    // A codeAware edge whose job's newest success ran other code than there is now.
    const codeChanged =
      node.status === "run" && lastSuccess !== null && codeHashes !== undefined &&
      asking.some((e) => e.dep.codeAware) && freshness.codeHash(node.job, key, null) !== (codeHashes.get(node.job) ?? "");
    const why = codeChanged ? `code changed since last success${hasIds ? ` (stale on ${stale} of ${needed.size} IDs)` : ""}` : reason(node.status, asking, hasIds, stale, needed.size, lastSuccess);
    return { ...base, staleIds: hasIds ? stale : 0, freshIds: hasIds ? fresh : 0, freshUntil: until, reason: why };
  });
}

/**
 * A job's newest success under any kwargs (epoch ms), or null: how recently it ran at
 * all, for `stau explain` and the console's Jobs pane, which a job run only with kwargs
 * would otherwise show as never.
 */
export function newestSuccess(freshness: FreshnessView, job: string): number | null {
  let newest: number | null = null;
  for (const key of freshness.kwargsKeys(job)) {
    const at = freshness.lastSuccess(job, key, null);
    if (at !== undefined && (newest === null || at > newest)) newest = at;
  }
  return newest;
}

function reason(status: JobPlanStatus, asking: readonly PlannedEdge[], hasIds: boolean, stale: number, needed: number, lastSuccess: number | null): string {
  const lag = formatDuration(Math.min(...asking.map((e) => e.dep.maxLagMs)));
  const perJob = !hasIds || asking.every((e) => e.dep.allowMissingWorkIds);
  if (status === "fresh") return perJob ? `fresh: succeeded within maxLag ${lag}` : `fresh on all ${needed} IDs`;
  if (asking.some((e) => e.dep.maxLagMs === 0)) return "maxLag 0: always runs";
  if (lastSuccess === null) return "never succeeded";
  if (perJob) return `last success older than maxLag ${lag}`;
  return `stale on ${stale} of ${needed} IDs`;
}
