import type { JobSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";
import { kwargsKey } from "./kwargs-key.js";
import { addChunks, coversAll, planNode, type Context, type Draft, type Node } from "./plan-node.js";
import { buildRawGraph } from "./raw-graph.js";
import type { JobPlanStatus, Plan, PlannedChunk, PlannedEdge, PlannedJob, ResolveInput } from "./types.js";

// Work IDs are handled as positions in the run's deduplicated ID list W: every ID a
// dependency can need comes from a chunk of its parent, so all of them are in W, and
// positions turn ordering, union and lookup into array work. Lists of positions are
// Int32Arrays, ascending (W's order) and never mutated, so a chunk is a range of the
// list it was split from (not a view: a million one-ID chunks would cost a typed array
// each). Big runs (10,000 IDs × 500 jobs, a million chunks) depend on this.

/**
 * Turns a trigger into the chunks to run (README, "How a trigger becomes chunks", step 4): the triggered job always
 * runs, each dependency runs on the work IDs its parents' chunks need that are not
 * fresh enough, and whatever is fresh is pruned with everything only below it. Pure:
 * time comes from `input.now`, freshness from `input.freshness`.
 *
 * Throws `ConfigError` for an unknown root, `UnknownJobError` / `CycleError` for a bad
 * graph below it.
 */
export function resolve(input: ResolveInput): Plan {
  buildRawGraph(input.jobs, input.job);
  const ids = [...new Set(input.workIds ?? [])];
  const n = ids.length;
  const ctx: Context = {
    input, ids, hasIds: input.workIds !== null,
    memo: new Float64Array(n), codeMemo: new Uint8Array(n), needed: new Uint8Array(n), union: new Int32Array(n), rankAt: new Int32Array(n),
    everything: Int32Array.from(ids, (_, p) => p),
  };
  const nodes = expand(input);
  const root = nodes[0];
  // The triggered job always runs, as one chunk even when W is empty.
  addChunks(root, ctx.everything, root.spec.chunkSize, true);

  // Kahn's algorithm: a node is planned once all its parents are, so what it needs is
  // the union over all of them; the FIFO queue keeps the order level by level.
  const order = [root];
  for (let i = 0; i < order.length; i++) {
    const node = order[i];
    if (node !== root) planNode(node, ctx);
    node.coversAll = ctx.hasIds && coversAll(node.chunks, ctx.everything);
    for (const { child } of node.edges) if (--child.parentsLeft === 0) order.push(child);
  }

  return {
    job: input.job,
    kwargs: input.kwargs,
    workIds: ctx.hasIds ? ids : null,
    jobs: nodes.map((node): PlannedJob => {
      const status: JobPlanStatus = node.chunks.length > 0 ? "run" : node.asked ? "fresh" : "skipped";
      const planned: PlannedJob = { job: node.spec.name, kwargs: node.kwargs, status };
      return status === "fresh" && node.freshSince !== undefined ? { ...planned, freshSince: node.freshSince } : planned;
    }),
    chunks: planned(order, ids),
    edges: nodes.flatMap((node) => node.edges.map(({ dep, child }): PlannedEdge => ({ parent: node.index, child: child.index, dep }))),
  };
}

/** Every node's chunks in planning order, as the plan lists them (one array, filled in place: a run may have millions). */
function planned(order: readonly Node[], ids: readonly WorkId[]): PlannedChunk[] {
  const chunks: PlannedChunk[] = [];
  for (const node of order) {
    for (const draft of node.chunks) {
      chunks.push({ id: draft.id, job: node.spec.name, kwargs: node.kwargs, workIds: idsAt(ids, draft), dependsOn: draft.dependsOn, node: node.index });
    }
  }
  return chunks;
}

/**
 * All nodes, breadth-first from the root. Run kwargs stay with the root; an edge's
 * kwargs are merged over those its parent got from edges above it, deeper keys winning.
 */
function expand(input: ResolveInput): Node[] {
  const make = (spec: JobSpec, kwargs: Kwargs, index: number): Node => ({
    index, spec, kwargs, kwargsKey: kwargsKey(kwargs), edges: [], incoming: [], parentsLeft: 0,
    prefix: spec.name, chunks: [], asked: false, freshSince: undefined, coversAll: false,
  });
  const root = make(input.jobs.get(input.job)!, input.kwargs, 0);
  const nodes = [root];
  const byKey = new Map<string, Node>();
  for (let i = 0; i < nodes.length; i++) {
    const parent = nodes[i];
    for (const dep of parent.spec.dependencies) {
      const kwargs = { ...(parent === root ? {} : parent.kwargs), ...dep.kwargs };
      const candidate = make(input.jobs.get(dep.job)!, kwargs, nodes.length);
      const key = `${dep.job}\u0000${candidate.kwargsKey}`;
      let child = byKey.get(key);
      if (child === undefined) {
        child = candidate;
        byKey.set(key, child);
        nodes.push(child);
      }
      child.parentsLeft++;
      child.incoming.push({ parent, dep, cutoff: Infinity, code: undefined });
      parent.edges.push({ dep, child });
    }
  }
  // A job met with several kwargs gets `~<n>` in its chunk ids, numbered breadth-first.
  const variants = new Map<string, Node[]>();
  for (const node of nodes) {
    const list = variants.get(node.spec.name) ?? [];
    list.push(node);
    variants.set(node.spec.name, list);
  }
  for (const list of variants.values()) {
    if (list.length > 1) list.forEach((node, n) => (node.prefix = `${node.spec.name}~${n}`));
  }
  return nodes;
}

/** The work IDs of a chunk: a slice when its positions are a run of W, as they mostly are. */
function idsAt(ids: readonly WorkId[], { list, start, end }: Draft): readonly WorkId[] {
  const n = end - start;
  if (n > 0 && list[end - 1] - list[start] === n - 1) {
    // All of W: the list is shared as lists are (never mutated), not copied per chunk.
    return n === ids.length ? ids : ids.slice(list[start], list[start] + n);
  }
  // A plain loop: `Array.from` on a typed array is several times slower.
  const out = new Array<WorkId>(n);
  for (let i = 0; i < n; i++) out[i] = ids[list[start + i]];
  return out;
}
