import type { DependencySpec, JobSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";
import type { ResolveInput } from "./types.js";

// One node of a resolution planned once its parents are (resolve.ts walks the graph):
// what its parents' chunks need of it, and its chunks. Work IDs are positions in the
// run's deduplicated ID list W, lists of them Int32Arrays, ascending and never mutated,
// a chunk a range of the list it was split from (resolve.ts says why).

/** A job with its effective kwargs: one node of the plan. */
export interface Node {
  /** Its position in the plan's `jobs`. */
  readonly index: number;
  readonly spec: JobSpec;
  readonly kwargs: Kwargs;
  /** Canonical kwargs, the key of its freshness records. */
  readonly kwargsKey: string;
  readonly edges: { dep: DependencySpec; child: Node }[];
  /** Edges into this node; planned once every parent is, as `parentsLeft` counts. */
  readonly incoming: Incoming[];
  parentsLeft: number;
  prefix: string;
  readonly chunks: Draft[];
  /** A running parent looked at this node (so it is fresh when none needs it). */
  asked: boolean;
  freshSince: number | undefined;
  /** Its chunks hold every position of W once, as ranges of `everything` (a job that runs on all of W). */
  coversAll: boolean;
}

/** A chunk being planned: its positions are `list[start..end)`. */
export interface Draft {
  readonly id: string;
  readonly list: Int32Array;
  readonly start: number;
  readonly end: number;
  readonly dependsOn: string[];
}

/**
 * An edge into the node being planned, with what it asks: a chunk of `parent` needs
 * the IDs whose last success is before `cutoff`; Infinity = all of them.
 */
export interface Incoming {
  readonly parent: Node;
  readonly dep: DependencySpec;
  cutoff: number;
  /** On a codeAware edge, the code a success must have run (the node's current hash); undefined otherwise. */
  code: string | undefined;
}

/** What one resolution shares across nodes; the arrays over W are allocated once. */
export interface Context {
  readonly input: ResolveInput;
  readonly ids: readonly WorkId[];
  readonly hasIds: boolean;
  /** Last success per position for the node being planned: NaN = not looked up yet. */
  readonly memo: Float64Array;
  /** Whether that success ran the node's current code: 0 not looked up, 1 it did, 2 it did not. */
  readonly codeMemo: Uint8Array;
  readonly needed: Uint8Array;
  readonly union: Int32Array;
  /** Index in the union of each of its positions. */
  readonly rankAt: Int32Array;
  /** Every position of W in order: the root's list, and any node's that needs all of W. */
  readonly everything: Int32Array;
}

/**
 * Decides which parent chunks need `node` and on which IDs, then makes its chunks: the
 * union of what sharing parents need, in W's order, split by its chunkSize, each parent
 * chunk depending on every chunk holding one of its IDs; then, per parent chunk on a
 * `unique` edge, chunks of its own. Makes no chunks when nothing needs it.
 */
export function planNode(node: Node, ctx: Context): void {
  const { input, hasIds, memo, codeMemo, needed } = ctx;
  // Edges from parents that do not run ask for nothing.
  const asking = node.incoming.filter((edge) => edge.parent.chunks.length > 0);
  node.asked = asking.length > 0;
  if (!node.asked) return;
  for (const edge of asking) {
    // Without hashes to compare (none given) codeAware is moot; a job whose file cannot be hashed never matches.
    edge.code = edge.dep.codeAware && input.codeHashes ? (input.codeHashes.get(node.spec.name) ?? "") : undefined;
  }
  if (hasIds) memo.fill(NaN);
  if (hasIds && asking.some((edge) => edge.code !== undefined)) codeMemo.fill(0);
  let any = NaN;
  let oldestFresh = Infinity;
  let isNeeded = false;
  // Edges from parents that each cover W ask the same of every ID when their cutoff and code agree: scanned once.
  let wholeScan: { cutoff: number; code: string | undefined; scan: Scan; marked: boolean } | null = null;
  const shared: Incoming[] = [];
  const unique: Incoming[] = [];

  // Pass 1: look up freshness, keep the edges that need something, mark shared needs.
  for (const edge of asking) {
    // maxLag 0 means "always run it", even right after a success at `now`.
    edge.cutoff = edge.dep.maxLagMs > 0 ? input.now - edge.dep.maxLagMs : Infinity;
    const isUnique = edge.dep.unique && hasIds; // without IDs every job is one chunk
    let stale = 0;
    let total = 0;
    const code = edge.code;
    let all = edge.cutoff === Infinity;
    if (!all) {
      if (any !== any) any = input.freshness.lastSuccess(node.spec.name, node.kwargsKey, null) ?? -Infinity;
      if (!hasIds || edge.dep.allowMissingWorkIds) {
        if (any >= edge.cutoff && (code === undefined || input.freshness.codeHash(node.spec.name, node.kwargsKey, null) === code)) {
          oldestFresh = Math.min(oldestFresh, any);
          continue;
        }
        all = true; // every ID of every chunk, whatever its own last success
      } else if (any < edge.cutoff) {
        // The job's newest success on any IDs bounds every ID's: older than the cutoff, each
        // ID is stale, and a job that never ran (a new one, a fresh store) is looked up once, not per ID.
        all = true;
      }
    }
    if (all) {
      edge.cutoff = Infinity;
      if (edge.parent.coversAll) {
        total = needed.length;
        if (!isUnique) needed.fill(1);
      } else {
        for (const { list: q, start, end } of edge.parent.chunks) {
          total += end - start;
          if (!isUnique) for (let i = start; i < end; i++) needed[q[i]] = 1;
        }
      }
      stale = hasIds ? total : 1;
    } else {
      const whole = edge.parent.coversAll;
      const again: boolean = whole && wholeScan !== null && wholeScan.cutoff === edge.cutoff && wholeScan.code === code && (isUnique || wholeScan.marked);
      const scan: Scan = again ? wholeScan!.scan : scanEdge(ctx, node, edge, !isUnique);
      if (whole && !again) wholeScan = { cutoff: edge.cutoff, code, scan, marked: !isUnique };
      total = scan.total;
      stale = scan.stale;
      oldestFresh = Math.min(oldestFresh, scan.oldestFresh);
      if (stale === total) edge.cutoff = Infinity; // lets the passes below skip checks
    }
    if (stale === 0) continue;
    isNeeded = true;
    (isUnique ? unique : shared).push(edge);
  }
  if (oldestFresh !== Infinity) node.freshSince = oldestFresh;
  if (!isNeeded) return;
  // The same parent on two edges to this node would otherwise list chunks twice.
  const seen = new Set<Node>();
  const twice = new Set<Node>();
  for (const { parent } of shared) (seen.has(parent) ? twice : seen).add(parent);
  const link = (parent: Node, chunk: Draft, id: string) => {
    if (!twice.has(parent) || !chunk.dependsOn.includes(id)) chunk.dependsOn.push(id);
  };
  if (!hasIds) {
    const [draft] = addChunks(node, NO_POSITIONS, null, true);
    for (const { parent } of shared) for (const chunk of parent.chunks) link(parent, chunk, draft.id);
    return;
  }

  // Pass 2: the union in W's order (positions ascend), split into the shared chunks.
  const { union, rankAt } = ctx;
  let count = 0;
  for (let p = 0; p < needed.length; p++) {
    if (needed[p] === 1) {
      rankAt[p] = count;
      union[count++] = p;
      needed[p] = 0; // left all zero for the next node
    }
  }
  const size = node.spec.chunkSize ?? count;
  // Lists are never mutated, so a node needing all of W shares one list (a copy each: 40 KB a job for 10,000 IDs).
  const drafts = addChunks(node, count === needed.length ? ctx.everything : union.slice(0, count), node.spec.chunkSize, false);
  // Pass 3: each parent chunk depends on the shared chunks holding its stale IDs. Each
  // chunk holds a run of ascending positions: once a stale position's chunk is linked,
  // skip to the first position past that chunk's end.
  for (const { parent, cutoff, code } of shared) {
    for (const chunk of parent.chunks) {
      const q = chunk.list;
      for (let i = chunk.start; i < chunk.end; ) {
        if (cutoff !== Infinity && memo[q[i]] >= cutoff && (code === undefined || ranCode(ctx, node, q[i], code))) {
          i++;
          continue;
        }
        const draft = drafts[Math.floor(rankAt[q[i]] / size)];
        link(parent, chunk, draft.id);
        i = firstAbove(q, draft.list[draft.end - 1], i + 1, chunk.end);
      }
    }
  }
  // Pass 4: on `unique` edges, each parent chunk gets chunks of its own.
  for (const { parent, cutoff, code } of unique) {
    for (const chunk of parent.chunks) {
      const q = chunk.list.subarray(chunk.start, chunk.end);
      const own = cutoff === Infinity ? q : q.filter((p) => memo[p] < cutoff || (code !== undefined && !ranCode(ctx, node, p, code)));
      for (const draft of addChunks(node, own, node.spec.chunkSize, false)) chunk.dependsOn.push(draft.id);
    }
  }
}

/** What one edge's parent chunks ask of a node: their IDs, the stale ones, the oldest success of the rest. */
interface Scan {
  readonly total: number;
  readonly stale: number;
  readonly oldestFresh: number;
}

/**
 * Counts the IDs of `edge`'s parent chunks that `node` has not succeeded on since the
 * edge's cutoff (with its code, on a codeAware edge), marking them needed when `mark`.
 * The hottest loop of a big run whose dependencies ran recently: it keeps to locals.
 */
function scanEdge(ctx: Context, node: Node, edge: Incoming, mark: boolean): Scan {
  const { memo, needed } = ctx;
  const { cutoff, code } = edge;
  let total = 0;
  let stale = 0;
  let oldestFresh = Infinity;
  const ranges = edge.parent.coversAll ? [{ list: ctx.everything, start: 0, end: needed.length }] : edge.parent.chunks;
  for (const { list: q, start, end } of ranges) {
    total += end - start;
    for (let i = start; i < end; i++) {
      const p = q[i];
      let at = memo[p];
      if (at !== at) at = lookUp(ctx, node, p);
      if (at >= cutoff && (code === undefined || ranCode(ctx, node, p, code))) {
        if (at < oldestFresh) oldestFresh = at;
      } else {
        stale++;
        if (mark) needed[p] = 1;
      }
    }
  }
  return { total, stale, oldestFresh };
}

/** Whether `chunks` hold every position of `everything` once: ranges of it whose lengths add up to it. */
export function coversAll(chunks: readonly Draft[], everything: Int32Array): boolean {
  let total = 0;
  for (const chunk of chunks) {
    if (chunk.list !== everything) return false;
    total += chunk.end - chunk.start;
  }
  return total === everything.length && total > 0;
}

/** `node`'s last success on position `p` (-Infinity: none), looked up once per node and kept in the memo. */
function lookUp(ctx: Context, node: Node, p: number): number {
  return (ctx.memo[p] = ctx.input.freshness.lastSuccess(node.spec.name, node.kwargsKey, ctx.ids[p]) ?? -Infinity);
}

/** codeAware: whether `node`'s last success on position `p` ran `code`, its code now (memoized per node). */
function ranCode(ctx: Context, node: Node, p: number, code: string): boolean {
  let m = ctx.codeMemo[p];
  if (m === 0) m = ctx.codeMemo[p] = ctx.input.freshness.codeHash(node.spec.name, node.kwargsKey, ctx.ids[p]) === code ? 1 : 2;
  return m === 1;
}

const NO_POSITIONS = new Int32Array(0);

/**
 * Splits `list` into consecutive chunks of `chunkSize` positions (null: one chunk) and
 * adds them to `node`; an empty list makes no chunk, unless `evenEmpty`. Returns them.
 */
export function addChunks(node: Node, list: Int32Array, chunkSize: number | null, evenEmpty: boolean): Draft[] {
  const made: Draft[] = [];
  const add = (start: number, end: number) => {
    const draft: Draft = { id: `${node.prefix}.${node.chunks.length}`, list, start, end, dependsOn: [] };
    node.chunks.push(draft);
    made.push(draft);
  };
  if (list.length === 0) {
    if (evenEmpty) add(0, 0);
    return made;
  }
  const size = chunkSize ?? list.length;
  for (let start = 0; start < list.length; start += size) add(start, Math.min(start + size, list.length));
  return made;
}

/** The first index in `[from, to)` whose value exceeds `value` (`to` if none), in ascending `q`. */
function firstAbove(q: Int32Array, value: number, from: number, to: number): number {
  let low = from;
  let high = to;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (q[mid] > value) high = mid;
    else low = mid + 1;
  }
  return low;
}
