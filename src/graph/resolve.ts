import type { DependencySpec, JobSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";
import { kwargsKey } from "./kwargs-key.js";
import { buildRawGraph } from "./raw-graph.js";
import type { JobPlanStatus, Plan, PlannedChunk, PlannedJob, ResolveInput } from "./types.js";

// Work IDs are handled internally as positions in the run's (deduplicated) ID list W:
// every ID a dependency can need comes from a chunk of its parent, so all of them are
// in W, and positions turn ordering, union and lookup into plain array work. Lists of
// positions are Int32Arrays, always ascending and never mutated once made, so chunks
// can be views into the list they were split from.

/** A job with its effective kwargs: one node of the plan. */
interface Node {
  readonly spec: JobSpec;
  readonly kwargs: Kwargs;
  /** Canonical kwargs, the key of its freshness records. */
  readonly kwargsKey: string;
  readonly edges: { dep: DependencySpec; child: Node }[];
  prefix: string;
  parentsLeft: number;
  /** A running parent looked at this node (so it is fresh if nothing needs it). */
  evaluated: boolean;
  oldestFresh: number | undefined;
  /** What each parent chunk needs, on edges that share chunks and on `unique` edges. */
  readonly shared: Need[];
  readonly unique: Need[];
  readonly chunks: Draft[];
  /** Last success per position in W, looked up once: NaN = not yet, -Infinity = never. */
  memo: Float64Array | undefined;
  /** Same for the last success on any IDs (or as a whole). */
  memoAny: number;
}

interface Draft {
  readonly id: string;
  readonly positions: Int32Array;
  readonly dependsOn: Set<string>;
}

/** Arrays over W reused by every node, so a big run allocates them once. */
interface Scratch {
  readonly needed: Uint8Array;
  readonly union: Int32Array;
  readonly chunkAt: Int32Array;
}

interface Need {
  readonly chunk: Draft;
  readonly positions: Int32Array;
}

/**
 * Turns a trigger into the chunks to run (SPEC §3, step 4): the triggered job always
 * runs, each dependency runs on the work IDs its parents' chunks need that are not
 * fresh enough, and whatever is fresh is pruned with everything only below it. Pure:
 * time comes from `input.now`, freshness from `input.freshness`.
 *
 * Throws `ConfigError` for an unknown root, `UnknownJobError` / `CycleError` for a bad
 * graph below it.
 */
export function resolve(input: ResolveInput): Plan {
  buildRawGraph(input.jobs, input.job);
  const hasIds = input.workIds !== null;
  const ids = [...new Set(input.workIds ?? [])];
  const nodes = expand(input);
  const root = nodes[0];
  const lookup = (node: Node, position: number | null): number =>
    input.freshness.lastSuccess(node.spec.name, node.kwargsKey, position === null ? null : ids[position]) ?? -Infinity;
  const scratch: Scratch = { needed: new Uint8Array(ids.length), union: new Int32Array(ids.length), chunkAt: new Int32Array(ids.length) };

  /** The positions of `chunk` on which `child` must run, or null when it need not. */
  const need = (chunk: Draft, dep: DependencySpec, child: Node): Int32Array | null => {
    // A success at or after the cutoff is fresh; maxLag 0 means "always run it", even
    // right after a success at `now`.
    const cutoff = dep.maxLagMs > 0 ? input.now - dep.maxLagMs : Infinity;
    if (!hasIds || dep.allowMissingWorkIds) {
      const at = Number.isNaN(child.memoAny) ? (child.memoAny = lookup(child, null)) : child.memoAny;
      if (at < cutoff) return hasIds && chunk.positions.length === 0 ? null : chunk.positions;
      child.oldestFresh = Math.min(child.oldestFresh ?? at, at);
      return null;
    }
    const memo = (child.memo ??= new Float64Array(ids.length).fill(NaN));
    const positions = chunk.positions;
    // Copied only once a fresh ID turns up: when all are stale, the chunk's own list
    // serves, which spares most allocations in a big run.
    let stale: Int32Array | undefined;
    let count = 0;
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i];
      let at = memo[p];
      if (at !== at) at = memo[p] = lookup(child, p); // NaN: not looked up yet
      if (at >= cutoff) {
        child.oldestFresh = Math.min(child.oldestFresh ?? at, at);
        if (stale === undefined) {
          stale = new Int32Array(positions.length);
          stale.set(positions.subarray(0, i));
          count = i;
        }
      } else if (stale !== undefined) {
        stale[count++] = p;
      }
    }
    if (stale === undefined) return positions.length > 0 ? positions : null;
    return count > 0 ? stale.subarray(0, count) : null;
  };

  const order: Node[] = [];
  // Kahn's algorithm: a node is processed once all its parents are, so what it needs is
  // the union over all of them; the FIFO queue keeps the order level by level.
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    order.push(node);
    node.memo = undefined; // every parent has looked: free it before the next level

    if (node === root) {
      // The triggered job always runs, as one chunk even when W is empty.
      const parts = split(Int32Array.from(ids, (_, p) => p), root.spec.chunkSize);
      addChunks(root, parts.length > 0 ? parts : [new Int32Array(0)]);
    } else if (node.shared.length + node.unique.length > 0) {
      buildChunks(node, scratch, hasIds);
    }
    for (const { dep, child } of node.edges) {
      if (node.chunks.length > 0) child.evaluated = true;
      for (const chunk of node.chunks) {
        const positions = need(chunk, dep, child);
        // Without work IDs every job is one chunk, so `unique` has nothing to split.
        if (positions !== null) (dep.unique && hasIds ? child.unique : child.shared).push({ chunk, positions });
      }
      if (--child.parentsLeft === 0) queue.push(child);
    }
  }

  return {
    job: input.job,
    kwargs: input.kwargs,
    workIds: hasIds ? ids : null,
    jobs: nodes.map((node): PlannedJob => {
      const status: JobPlanStatus = node.chunks.length > 0 ? "run" : node.evaluated ? "fresh" : "skipped";
      const planned: PlannedJob = { job: node.spec.name, kwargs: node.kwargs, status };
      return status === "fresh" && node.oldestFresh !== undefined ? { ...planned, freshSince: node.oldestFresh } : planned;
    }),
    chunks: order.flatMap((node) =>
      node.chunks.map(
        (draft): PlannedChunk => ({
          id: draft.id,
          job: node.spec.name,
          kwargs: node.kwargs,
          workIds: idsAt(ids, draft.positions),
          dependsOn: [...draft.dependsOn],
        }),
      ),
    ),
  };
}

/**
 * The nodes below the root, breadth-first. Run kwargs stay with the root; an edge's
 * kwargs are merged over those its parent got from edges above it, deeper keys winning.
 */
function expand(input: ResolveInput): Node[] {
  const make = (spec: JobSpec, kwargs: Kwargs): Node => ({
    spec, kwargs, kwargsKey: kwargsKey(kwargs), edges: [], prefix: spec.name, parentsLeft: 0, evaluated: false,
    oldestFresh: undefined, shared: [], unique: [], chunks: [], memo: undefined, memoAny: NaN,
  });
  const root = make(input.jobs.get(input.job)!, input.kwargs);
  const nodes = [root];
  const byKey = new Map<string, Node>();
  for (let i = 0; i < nodes.length; i++) {
    const parent = nodes[i];
    for (const dep of parent.spec.dependencies) {
      const kwargs = { ...(parent === root ? {} : parent.kwargs), ...dep.kwargs };
      const candidate = make(input.jobs.get(dep.job)!, kwargs);
      const key = `${dep.job}\u0000${candidate.kwargsKey}`;
      let child = byKey.get(key);
      if (child === undefined) {
        child = candidate;
        byKey.set(key, child);
        nodes.push(child);
      }
      child.parentsLeft++;
      parent.edges.push({ dep, child });
    }
  }
  // A job met with several kwargs gets `~<n>` in its chunk ids, numbered breadth-first.
  const variants = new Map<string, Node[]>();
  for (const node of nodes) variants.set(node.spec.name, [...(variants.get(node.spec.name) ?? []), node]);
  for (const list of variants.values()) if (list.length > 1) list.forEach((node, n) => (node.prefix = `${node.spec.name}~${n}`));
  return nodes;
}

/**
 * A needed node's chunks: the union of what its sharing parents need, in W's order, split
 * by its chunkSize, each parent chunk depending on every chunk holding one of its IDs;
 * then one set of chunks per parent chunk on a `unique` edge.
 */
function buildChunks(node: Node, scratch: Scratch, hasIds: boolean): void {
  if (!hasIds) {
    const [draft] = addChunks(node, [new Int32Array(0)]);
    for (const n of [...node.shared, ...node.unique]) n.chunk.dependsOn.add(draft.id);
    return;
  }
  // Scratch arrays over W are shared by all nodes; `needed` is left all zero again.
  const { needed, chunkAt } = scratch;
  for (const { positions } of node.shared) for (let i = 0; i < positions.length; i++) needed[positions[i]] = 1;
  const union = scratch.union;
  let count = 0;
  for (let p = 0; p < needed.length; p++) {
    if (needed[p] === 1) {
      union[count++] = p;
      needed[p] = 0;
    }
  }
  const shared = addChunks(node, split(union.slice(0, count), node.spec.chunkSize));
  shared.forEach(({ positions }, index) => {
    for (let i = 0; i < positions.length; i++) chunkAt[positions[i]] = index;
  });
  for (const n of node.shared) {
    // Every list of positions ascends (all are in W's order) and each chunk holds a run
    // of them, so after one position's chunk, skip to the first position past its end.
    const q = n.positions;
    for (let i = 0; i < q.length; ) {
      const draft = shared[chunkAt[q[i]]];
      n.chunk.dependsOn.add(draft.id);
      i = firstAbove(q, draft.positions[draft.positions.length - 1], i + 1);
    }
  }
  for (const n of node.unique) {
    for (const draft of addChunks(node, split(n.positions, node.spec.chunkSize))) n.chunk.dependsOn.add(draft.id);
  }
}

/** The work IDs at `positions` (a plain loop: `Array.from` on typed arrays is slow). */
function idsAt(ids: readonly WorkId[], positions: Int32Array): WorkId[] {
  const out = new Array<WorkId>(positions.length);
  for (let i = 0; i < positions.length; i++) out[i] = ids[positions[i]];
  return out;
}

/** The first index from `from` on whose value exceeds `value`, in ascending `q`. */
function firstAbove(q: Int32Array, value: number, from: number): number {
  let low = from;
  let high = q.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (q[mid] > value) high = mid;
    else low = mid + 1;
  }
  return low;
}

function addChunks(node: Node, parts: Int32Array[]): Draft[] {
  const drafts = parts.map((positions, i) => ({
    id: `${node.prefix}.${node.chunks.length + i}`,
    positions,
    dependsOn: new Set<string>(),
  }));
  node.chunks.push(...drafts);
  return drafts;
}

/** Consecutive slices of `chunkSize`; null keeps everything in one slice. */
function split(positions: Int32Array, chunkSize: number | null): Int32Array[] {
  if (positions.length === 0) return [];
  if (chunkSize === null) return [positions];
  const parts: Int32Array[] = [];
  for (let i = 0; i < positions.length; i += chunkSize) parts.push(positions.subarray(i, i + chunkSize));
  return parts;
}
