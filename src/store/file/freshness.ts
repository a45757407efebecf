import { existsSync, mkdirSync, readdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { WorkId } from "../../config/types.js";
import type { FreshnessView } from "../../graph/types.js";
import type { Success } from "../records.js";
import { replaceAllDurably } from "./durable-write.js";
import { DurableJsonFile } from "./snapshot-file.js";
import { snapshotShapeProblem } from "./shapes.js";
import { shardOf } from "./shard.js";

// Freshness on disk, per job: `freshness/<job>.json` (the head: per kwargs key the newest
// success on any IDs and its code hash) and `freshness/<job>/<n>.json` (the shards: the
// newest success per work ID, each ID in the shard its text hashes to). A run on a few IDs
// reads the head and the shards of its IDs, and compaction rewrites the head and the
// shards that changed, whatever the number of IDs the job ever ran on.
//
// Older stau versions kept everything in the head file (format 1). It is read whole, once,
// and the next compaction writes its shards and then replaces it with a format 2 head, so
// a crash in between leaves the format 1 file, which is still the whole truth (shards
// beside a format 1 head are never read).

/** The newest success on any IDs, with its code hash. */
interface HeadNode {
  any: number;
  anyCode?: string;
}

/**
 * The newest success per work ID (JSON text of the ID) and the code hash each ran: `code`
 * for every ID that `codes` does not name, `codes` for the IDs whose hash differs from it
 * (null: none). Most IDs of a job ran the same code, so a million IDs carry one hash, not
 * a million. Files older than code-aware freshness have neither (no ID has a hash); files
 * of stau versions before `code` name every ID's hash in `codes`, which reads the same.
 */
interface IdsNode {
  ids: Record<string, number>;
  codes?: Record<string, string | null>;
  code?: string;
}

/** Each file carries the journal sequence number it includes, so replay skips what it has. */
interface HeadFile {
  format: 2;
  seq: number;
  shards: number;
  nodes: Record<string, HeadNode>;
}

interface ShardFile {
  format: 2;
  seq: number;
  nodes: Record<string, IdsNode>;
}

interface WholeFile {
  format: 1;
  seq: number;
  nodes: Record<string, HeadNode & IdsNode>;
}

/** Shards of a job's IDs: a million IDs make shards of ~16,000, read in a few milliseconds. */
const SHARDS = 64;

interface Part<T> {
  data: T;
  dirty: boolean;
}

interface JobFreshness {
  head: Part<HeadFile>;
  shards: Map<number, Part<ShardFile>>;
  /** Every shard is in memory (a format 1 file was read, or there was none): missing ones are empty, never read. */
  whole: boolean;
}

const emptyHead = (): HeadFile => ({ format: 2, seq: 0, shards: SHARDS, nodes: {} });
const emptyShard = (): ShardFile => ({ format: 2, seq: 0, nodes: {} });

// Work IDs 1 and "1" are different IDs; their JSON text keeps them apart as object keys.
const idKey = (id: WorkId) => JSON.stringify(id);

/**
 * Freshness of each job, loaded part by part the first time it is asked about, so a run
 * touching three jobs never reads fifty, and a run on one ID never reads a million.
 */
export class FreshnessFiles implements FreshnessView {
  private readonly loaded = new Map<string, JobFreshness>();

  constructor(private readonly dir: string) {}

  private headFile(job: string): DurableJsonFile<HeadFile | WholeFile> {
    return new DurableJsonFile(join(this.dir, `${job}.json`), (data) => {
      const format = (data as { format?: unknown } | null)?.format;
      return snapshotShapeProblem(data, format === 1 ? { format: 1, seq: 0, nodes: {} } : emptyHead());
    });
  }

  private shardFile(job: string, shard: number): DurableJsonFile<ShardFile> {
    return new DurableJsonFile(join(this.dir, job, `${shard}.json`), (data) => snapshotShapeProblem(data, emptyShard()));
  }

  private job(job: string): JobFreshness {
    let entry = this.loaded.get(job);
    if (!entry) {
      const read = this.headFile(job).read();
      entry = read === null ? { head: { data: emptyHead(), dirty: false }, shards: new Map(), whole: true } : read.format === 1 ? split(read) : { head: { data: read, dirty: false }, shards: new Map(), whole: false };
      this.loaded.set(job, entry);
    }
    return entry;
  }

  private shard(job: string, entry: JobFreshness, key: string): Part<ShardFile> {
    const n = shardOf(key, entry.head.data.shards);
    let part = entry.shards.get(n);
    if (!part) {
      part = { data: (entry.whole ? null : this.shardFile(job, n).read()) ?? emptyShard(), dirty: false };
      entry.shards.set(n, part);
    }
    return part;
  }

  /** Why a success of this job cannot be recorded (its head or a shard of its IDs cannot be read), or null. */
  unreadable(success: Pick<Success, "job" | "workIds">): string | null {
    try {
      const entry = this.job(success.job);
      for (const id of success.workIds) this.shard(success.job, entry, idKey(id));
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  }

  lastSuccess(job: string, kwargsKey: string, workId: WorkId | null): number | undefined {
    const entry = this.job(job);
    if (workId === null) return entry.head.data.nodes[kwargsKey]?.any || undefined;
    const key = idKey(workId);
    return this.shard(job, entry, key).data.nodes[kwargsKey]?.ids[key];
  }

  codeHash(job: string, kwargsKey: string, workId: WorkId | null): string | undefined {
    const entry = this.job(job);
    if (workId === null) return entry.head.data.nodes[kwargsKey]?.anyCode;
    const key = idKey(workId);
    const node = this.shard(job, entry, key).data.nodes[kwargsKey];
    return node && codeOf(node, key);
  }

  kwargsKeys(job: string): string[] {
    return Object.keys(this.job(job).head.data.nodes);
  }

  /**
   * Applies a success; `seq` lets journal replay skip what a part already has (one line
   * may hold several successes, so a line equal to a part's number may still bring more).
   */
  record(success: Success, seq: number): void {
    const entry = this.job(success.job);
    // The code hash goes with the newest success, as the time does.
    const code = success.codeHash ?? undefined;
    const head = entry.head;
    if (seq >= head.data.seq) {
      const node = (head.data.nodes[success.kwargsKey] ??= { any: 0 });
      if (success.at >= node.any) node.anyCode = code;
      node.any = Math.max(node.any, success.at);
      head.data.seq = seq;
      head.dirty = true;
    }
    for (const id of success.workIds) {
      const key = idKey(id);
      const part = this.shard(success.job, entry, key);
      if (seq < part.data.seq) continue;
      // A new node takes the first hash it hears as its own (persist() moves it to the most common one).
      const node = (part.data.nodes[success.kwargsKey] ??= code === undefined ? { ids: {} } : { ids: {}, code });
      const known = node.ids[key];
      if (known === undefined || success.at >= known) {
        setCode(node, key, code);
        node.ids[key] = success.at;
      }
      part.data.seq = seq;
      part.dirty = true;
    }
  }

  /** Rewrites the parts that changed since the last call: shards first, the head that makes them count last. */
  persist(): void {
    for (const [job, entry] of this.loaded) {
      if (entry.head.dirty && !existsSync(this.dir)) mkdirSync(this.dir, { recursive: true });
      const dirty = [...entry.shards].filter(([, part]) => part.dirty);
      if (dirty.length > 0 && !existsSync(join(this.dir, job))) mkdirSync(join(this.dir, job), { recursive: true });
      for (const [, part] of dirty) for (const node of Object.values(part.data.nodes)) rebase(node);
      replaceAllDurably(dirty.map(([n, part]) => [this.shardFile(job, n).file, (fd: number) => writeFileSync(fd, JSON.stringify(part.data))] as const));
      for (const [, part] of dirty) part.dirty = false;
      if (!entry.head.dirty) continue;
      // Shards a head never counted (a compaction cut short, a head moved away) must not count once it does.
      if (entry.whole) this.removeStrayShards(job, entry);
      this.headFile(job).write(entry.head.data);
      entry.head.dirty = false;
      // From now on the shards on disk are the truth.
      entry.whole = false;
    }
  }

  private removeStrayShards(job: string, entry: JobFreshness): void {
    const dir = join(this.dir, job);
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const n = /^(\d+)\.json$/.exec(name)?.[1];
      if (n !== undefined && !entry.shards.has(Number(n))) unlinkSync(join(dir, name));
    }
  }

  /** Job names that have freshness (for diagnostics and tests). */
  jobs(): string[] {
    return existsSync(this.dir) ? readdirSync(this.dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)) : [];
  }
}

/** A format 1 file, whole, as a head and its shards; every part is dirty, so the next compaction writes the new layout. */
function split(file: WholeFile): JobFreshness {
  const head: HeadFile = { format: 2, seq: file.seq, shards: SHARDS, nodes: {} };
  const shards = new Map<number, Part<ShardFile>>();
  for (const [kwargsKey, node] of Object.entries(file.nodes)) {
    head.nodes[kwargsKey] = node.anyCode === undefined ? { any: node.any } : { any: node.any, anyCode: node.anyCode };
    for (const [key, at] of Object.entries(node.ids ?? {})) {
      const n = shardOf(key, SHARDS);
      let part = shards.get(n);
      if (!part) shards.set(n, (part = { data: { format: 2, seq: file.seq, nodes: {} }, dirty: true }));
      const ids = (part.data.nodes[kwargsKey] ??= { ids: {} });
      ids.ids[key] = at;
      const code = node.codes?.[key];
      if (code != null) (ids.codes ??= {})[key] = code;
    }
  }
  return { head: { data: head, dirty: true }, shards, whole: true };
}

/** The code hash an ID of `node` ran, or undefined (none, or not known). */
function codeOf(node: IdsNode, key: string): string | undefined {
  const own = node.codes?.[key];
  return own === undefined ? node.code : (own ?? undefined);
}

/** Records that `key` last ran `code`: nothing of its own when that is the node's hash. */
function setCode(node: IdsNode, key: string, code: string | undefined): void {
  if (code === node.code) {
    if (node.codes) delete node.codes[key];
  } else (node.codes ??= {})[key] = code ?? null;
}

/**
 * Makes the hash most of `node`'s IDs ran its own, so `codes` names only the others: a
 * job's code changes between runs, and the IDs a new run covered would otherwise each be
 * named. Run on a shard before it is written, which costs what writing it costs.
 */
function rebase(node: IdsNode): void {
  const keys = Object.keys(node.ids);
  const counts = new Map<string | undefined, number>();
  for (const key of keys) {
    const code = codeOf(node, key);
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  let common: string | undefined = node.code;
  for (const [code, n] of counts) if (n > (counts.get(common) ?? 0)) common = code;
  if (common === node.code) return;
  const codes: Record<string, string | null> = {};
  let named = false;
  for (const key of keys) {
    const code = codeOf(node, key);
    if (code !== common) (codes[key] = code ?? null), (named = true);
  }
  if (common === undefined) delete node.code;
  else node.code = common;
  if (named) node.codes = codes;
  else delete node.codes;
}
