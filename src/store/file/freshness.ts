import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { LowSync } from "lowdb";
import type { WorkId } from "../../config/types.js";
import type { FreshnessView } from "../../graph/types.js";
import { openSnapshot } from "./snapshot-file.js";
import type { Success } from "../records.js";

/** One job's last successes: per kwargs key, the newest success overall and per work ID. */
interface JobFreshnessFile {
  format: 1;
  /** The journal sequence number this file includes. */
  seq: number;
  nodes: Record<string, FreshnessNode>;
}

/** The newest success overall and per work ID, with the code hashes those ran (absent in files older than code-aware freshness). */
interface FreshnessNode {
  any: number;
  ids: Record<string, number>;
  anyCode?: string;
  codes?: Record<string, string>;
}

interface Loaded {
  db: LowSync<JobFreshnessFile>;
  dirty: boolean;
}

// Work IDs 1 and "1" are different IDs; their JSON text keeps them apart as object keys.
const idKey = (id: WorkId) => JSON.stringify(id);

/**
 * Freshness lives in one lowdb file per job under data/freshness/, loaded the first
 * time a job is asked about, so a run touching three jobs never reads fifty files,
 * and compaction rewrites only the jobs that changed.
 */
export class FreshnessFiles implements FreshnessView {
  private readonly loaded = new Map<string, Loaded>();

  constructor(private readonly dir: string) {}

  private file(job: string): string {
    return join(this.dir, `${job}.json`);
  }

  private load(job: string): Loaded {
    let entry = this.loaded.get(job);
    if (!entry) {
      entry = { db: openSnapshot<JobFreshnessFile>(this.file(job), () => ({ format: 1, seq: 0, nodes: {} })), dirty: false };
      this.loaded.set(job, entry);
    }
    return entry;
  }

  /** Why a job's freshness file cannot be read, or null when it can (or does not exist yet). */
  unreadable(job: string): string | null {
    try {
      this.load(job);
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  }

  lastSuccess(job: string, kwargsKey: string, workId: WorkId | null): number | undefined {
    const node = this.load(job).db.data.nodes[kwargsKey];
    if (!node) return undefined;
    return workId === null ? node.any || undefined : node.ids[idKey(workId)];
  }

  codeHash(job: string, kwargsKey: string, workId: WorkId | null): string | undefined {
    const node = this.load(job).db.data.nodes[kwargsKey];
    if (!node) return undefined;
    return workId === null ? node.anyCode : node.codes?.[idKey(workId)];
  }

  kwargsKeys(job: string): string[] {
    return Object.keys(this.load(job).db.data.nodes);
  }

  /** Applies a success; `seq` lets journal replay skip what the file already has. */
  record(success: Success, seq: number): void {
    const entry = this.load(success.job);
    const data = entry.db.data;
    // Lines up to the file's own sequence number are in it already (one line may hold
    // several successes, so a line equal to it may still bring more).
    if (seq < data.seq) return;
    const node = (data.nodes[success.kwargsKey] ??= { any: 0, ids: {} });
    // The code hash goes with the newest success, as the time does.
    const code = success.codeHash ?? undefined;
    if (success.at >= node.any) node.anyCode = code;
    node.any = Math.max(node.any, success.at);
    for (const id of success.workIds) {
      const key = idKey(id);
      if (success.at >= (node.ids[key] ?? 0)) {
        if (code !== undefined) (node.codes ??= {})[key] = code;
        else if (node.codes) delete node.codes[key];
      }
      node.ids[key] = Math.max(node.ids[key] ?? 0, success.at);
    }
    data.seq = seq;
    entry.dirty = true;
  }

  /** Rewrites the files that changed since the last call. */
  persist(): void {
    for (const entry of this.loaded.values()) {
      if (!entry.dirty) continue;
      if (!existsSync(this.dir)) mkdirSync(this.dir, { recursive: true });
      entry.db.write();
      entry.dirty = false;
    }
  }

  /** Job names that have a freshness file (for diagnostics and tests). */
  jobs(): string[] {
    return existsSync(this.dir) ? readdirSync(this.dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)) : [];
  }
}
