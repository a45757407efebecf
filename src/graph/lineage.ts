import type { JobSpec } from "../config/spec.js";

// Lineage from `reads` and `writes` (README "Lineage"): which datasets flow between which
// jobs, and which reads are not backed by a dependency. Pure, and like render.ts it never
// throws on a broken registry (cycles, unknown jobs): validate reports those itself.

/** A dataset with the jobs that write and read it, each list sorted. */
export interface Dataset {
  readonly name: string;
  readonly writers: readonly string[];
  readonly readers: readonly string[];
}

/** A job reads a dataset that a job it does not depend on, directly or not, writes. */
export interface LineageWarning {
  readonly job: string;
  readonly dataset: string;
  readonly writer: string;
  readonly message: string;
}

/**
 * Every dataset the given jobs (all, when absent) read or write, by name, each with all
 * the jobs that write and read it: a graph of one job still says who writes what it reads.
 */
export function datasets(jobs: ReadonlyMap<string, JobSpec>, among?: Iterable<string>): Dataset[] {
  const found = new Map<string, { writers: Set<string>; readers: Set<string> }>();
  const entry = (name: string) => found.get(name) ?? found.set(name, { writers: new Set(), readers: new Set() }).get(name)!;
  for (const [name, spec] of jobs) {
    for (const d of spec.writes) entry(d).writers.add(name);
    for (const d of spec.reads) entry(d).readers.add(name);
  }
  if (among !== undefined) {
    const touched = new Set([...among].flatMap((name) => [...(jobs.get(name)?.writes ?? []), ...(jobs.get(name)?.reads ?? [])]));
    for (const name of found.keys()) if (!touched.has(name)) found.delete(name);
  }
  return [...found]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, { writers, readers }]) => ({ name, writers: [...writers].sort(), readers: [...readers].sort() }));
}

/**
 * For every read of a dataset some other job writes: a warning unless the reader depends
 * on that writer. Without the dependency nothing orders the two, so the reader may see
 * the dataset before the writer ran, or an old one.
 */
export function lineageWarnings(jobs: ReadonlyMap<string, JobSpec>): LineageWarning[] {
  const warnings: LineageWarning[] = [];
  for (const { name, writers, readers } of datasets(jobs)) {
    for (const reader of readers) {
      const upstream = dependsOn(jobs, reader);
      for (const writer of writers) {
        if (writer === reader || upstream.has(writer)) continue;
        warnings.push({
          job: reader,
          dataset: name,
          writer,
          message: `reads dataset ${JSON.stringify(name)}, which ${writer} writes, but does not depend on ${writer} (directly or through other jobs): add ${writer} to its dependencies so it never reads the dataset before ${writer} wrote it`,
        });
      }
    }
  }
  return warnings;
}

/** Jobs `root` depends on, directly or not; unknown names and cycles are walked past. */
function dependsOn(jobs: ReadonlyMap<string, JobSpec>, root: string): Set<string> {
  const seen = new Set<string>();
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    for (const dep of jobs.get(queue[i])?.dependencies ?? []) {
      if (!seen.has(dep.job)) {
        seen.add(dep.job);
        queue.push(dep.job);
      }
    }
  }
  return seen;
}

/** Datasets as text lines: `name: writer, … → reader, …` ("—" where there is none). */
export function datasetLines(list: readonly Dataset[]): string[] {
  return list.map((d) => `${d.name}: ${d.writers.join(", ") || "—"} → ${d.readers.join(", ") || "—"}`);
}
