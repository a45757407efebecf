import { DirectedGraph } from "graphology";
import type { JobSpec } from "../config/spec.js";
import { ConfigError } from "../errors.js";

// graphology's d.ts is read as CommonJS under NodeNext, so its default export types as
// the module namespace, not the class; the named `DirectedGraph` types and runs alike.

/** A job's `dependencies` name a job that has no file. */
export class UnknownJobError extends ConfigError {
  /** The job whose dependencies hold the unknown name. */
  readonly job: string;
  readonly file: string;
  readonly dependency: string;

  constructor(job: string, file: string, dependency: string) {
    super(
      `${file}: dependencies: unknown job ${JSON.stringify(dependency)} (needed by ${JSON.stringify(job)})`,
      "A dependency's `job` is the name of a job file without its extension; check the spelling.",
    );
    this.name = "UnknownJobError";
    this.job = job;
    this.file = file;
    this.dependency = dependency;
  }
}

/** Dependencies that lead back to where they started. */
export class CycleError extends ConfigError {
  /** The cycle as a path that ends where it starts: `["a", "b", "c", "a"]`. */
  readonly cycle: string[];

  constructor(cycle: string[]) {
    super(`dependency cycle: ${cycle.join(" → ")}`, "Remove one of the dependencies in the cycle.");
    this.name = "CycleError";
    this.cycle = cycle;
  }
}

/**
 * Raw graphs built so far, per registry and root. A registry's jobs never change once it
 * is loaded (a reload makes a new map), and every trigger asks for its job's graph
 * twice (admission, resolution): constructing a graphology graph alone costs ~60 µs,
 * a tenth of a one-chunk run's own time on the main thread.
 */
const built = new WeakMap<ReadonlyMap<string, JobSpec>, Map<string, DirectedGraph>>();

/**
 * The jobs reachable from `root` through `dependencies`, one node per job name and one
 * edge parent → dependency (several edges to the same job collapse into one). Throws
 * `UnknownJobError` or `CycleError` on the first problem met, a `ConfigError` when
 * `root` itself is unknown. The graph is shared by every caller asking for the same
 * registry and root: read it, never change it.
 */
export function buildRawGraph(jobs: ReadonlyMap<string, JobSpec>, root: string): DirectedGraph {
  let byRoot = built.get(jobs);
  const known = byRoot?.get(root);
  if (known) return known;
  const graph = build(jobs, root);
  if (!byRoot) built.set(jobs, (byRoot = new Map()));
  byRoot.set(root, graph);
  return graph;
}

function build(jobs: ReadonlyMap<string, JobSpec>, root: string): DirectedGraph {
  const rootSpec = jobs.get(root);
  if (rootSpec === undefined) {
    throw new ConfigError(
      `unknown job ${JSON.stringify(root)}`,
      "A job's name is its file name in jobs/ without the extension; `stau graph` shows every job.",
    );
  }
  const graph = new DirectedGraph();
  graph.addNode(root);
  // Iterative depth-first search: a deep chain must not overflow the call stack. The
  // stack holds exactly the current path, which is what a cycle message needs.
  const done = new Set<string>();
  const path: { spec: JobSpec; next: number }[] = [{ spec: rootSpec, next: 0 }];
  const onPath = new Set([root]);
  while (path.length > 0) {
    const frame = path[path.length - 1];
    const dep = frame.spec.dependencies[frame.next++];
    if (dep === undefined) {
      path.pop();
      onPath.delete(frame.spec.name);
      done.add(frame.spec.name);
      continue;
    }
    const child = jobs.get(dep.job);
    if (child === undefined) throw new UnknownJobError(frame.spec.name, frame.spec.file, dep.job);
    if (onPath.has(dep.job)) {
      const start = path.findIndex((f) => f.spec.name === dep.job);
      throw new CycleError([...path.slice(start).map((f) => f.spec.name), dep.job]);
    }
    graph.mergeNode(dep.job);
    graph.mergeEdge(frame.spec.name, dep.job);
    if (!done.has(dep.job)) {
      path.push({ spec: child, next: 0 });
      onPath.add(dep.job);
    }
  }
  return graph;
}

/** Every job `root` depends on, directly or not (the raw graph without root). */
export function upstreamJobs(jobs: ReadonlyMap<string, JobSpec>, root: string): Set<string> {
  const names = new Set(buildRawGraph(jobs, root).nodes());
  names.delete(root);
  return names;
}

/** Each dependency edge, in the whole registry, that names a job with no file. */
export function findUnknownDependencies(
  jobs: ReadonlyMap<string, JobSpec>,
): { job: string; file: string; dependency: string }[] {
  const unknown: { job: string; file: string; dependency: string }[] = [];
  for (const spec of jobs.values()) {
    for (const dep of spec.dependencies) {
      if (!jobs.has(dep.job)) unknown.push({ job: spec.name, file: spec.file, dependency: dep.job });
    }
  }
  return unknown;
}

/** Enumeration stops here: past it the registry has bigger problems than a list shows. */
const MAX_CYCLES = 100;

/**
 * Every elementary cycle among all jobs (unknown dependencies ignored), each as a path
 * ending where it starts, beginning at its alphabetically first job so every cycle is
 * reported once. Capped at 100 cycles.
 */
export function findCycles(jobs: ReadonlyMap<string, JobSpec>): string[][] {
  const out = new Map<string, string[]>();
  const into = new Map<string, string[]>([...jobs.keys()].map((name) => [name, []]));
  for (const [name, spec] of jobs) {
    const deps = [...new Set(spec.dependencies.map((d) => d.job))].filter((d) => jobs.has(d));
    out.set(name, deps);
    for (const dep of deps) into.get(dep)!.push(name);
  }
  const cycles: string[][] = [];
  for (const start of [...jobs.keys()].sort()) {
    // A cycle through `start` only visits jobs that both reach it and are reached from
    // it; walking only those keeps a large acyclic registry from costing every path in it.
    // Jobs sorting before `start` are left out too: their cycles were found from them.
    const from = reachable(start, out, start);
    const to = reachable(start, into, start);
    const walk = (node: string, path: string[], seen: Set<string>): void => {
      for (const next of out.get(node)!) {
        if (cycles.length >= MAX_CYCLES) return;
        if (next === start) cycles.push([...path, start]);
        else if (from.has(next) && to.has(next) && !seen.has(next)) {
          seen.add(next);
          walk(next, [...path, next], seen);
          seen.delete(next);
        }
      }
    };
    walk(start, [start], new Set([start]));
  }
  return cycles;
}

/** Jobs reachable from `start` along `edges`, through jobs sorting after `floor` only. */
function reachable(start: string, edges: ReadonlyMap<string, string[]>, floor: string): Set<string> {
  const seen = new Set<string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const next of edges.get(queue[i])!) {
      if (next > floor && !seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}
