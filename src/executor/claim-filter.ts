import type { Registry } from "../jobs/load.js";
import type { ClaimFilter } from "../store/store.js";

/** Each registry's `concurrency` limits, worked out once: claims are frequent. */
const limitsByRegistry = new WeakMap<Registry, Readonly<Record<string, number>> | null>();

/**
 * Which pending chunks an executor's claim may take (ClaimFilter): none of the jobs that
 * do not load here, only suspects or none, only `runs` when given, each job within its
 * `concurrency`.
 */
export function claimFilter(registry: Registry, unrunnable: ReadonlySet<string>, suspects: boolean, runs: readonly string[] | undefined): ClaimFilter {
  const skipJobs = [...new Set([...registry.broken.keys(), ...unrunnable])];
  const limits = concurrencyLimits(registry);
  return { skipJobs, suspects, ...(runs ? { runs } : {}), ...(limits ? { limits } : {}) };
}

/** A job's `concurrency` by name, or null when no job has one. */
export function concurrencyLimits(registry: Registry): Readonly<Record<string, number>> | null {
  let limits = limitsByRegistry.get(registry);
  if (limits === undefined) {
    const entries = [...registry.jobs.values()].flatMap((spec) => (spec.concurrency ? [[spec.name, spec.concurrency] as const] : []));
    limits = entries.length > 0 ? Object.fromEntries(entries) : null;
    limitsByRegistry.set(registry, limits);
  }
  return limits;
}
