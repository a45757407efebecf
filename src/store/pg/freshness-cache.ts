import type { WorkId } from "../../config/types.js";
import type { FreshnessView } from "../../graph/types.js";

interface Node {
  any: number;
  ids: Map<string, number>;
  /** The code hash of the newest success per work ID's JSON text ('' for any IDs). */
  codes: Map<string, string>;
}

/** The key of a work ID: its JSON text, so 1 and "1" stay apart (as in the freshness table). */
export const workIdKey = (id: WorkId) => JSON.stringify(id);

/**
 * The orchestrator's copy of the freshness table: loaded once, then kept current from
 * the chunks it sees finish, so resolving a run reads memory, not the database.
 */
export class FreshnessCache implements FreshnessView {
  private readonly nodes = new Map<string, Node>();

  private node(job: string, kwargsKey: string): Node {
    const key = `${job}\u0000${kwargsKey}`;
    let node = this.nodes.get(key);
    if (!node) this.nodes.set(key, (node = { any: 0, ids: new Map(), codes: new Map() }));
    return node;
  }

  /**
   * One row of the table: `workIdText` is a work ID's JSON text, '' for the job on any
   * IDs; `code` the code hash that success ran (null: unknown), kept with the newest.
   */
  load(job: string, kwargsKey: string, workIdText: string, at: number, code: string | null = null): void {
    const node = this.node(job, kwargsKey);
    const before = workIdText === "" ? node.any : (node.ids.get(workIdText) ?? 0);
    if (at >= before) {
      if (code === null) node.codes.delete(workIdText);
      else node.codes.set(workIdText, code);
    }
    if (workIdText === "") node.any = Math.max(node.any, at);
    else node.ids.set(workIdText, Math.max(before, at));
  }

  record(job: string, kwargsKey: string, workIds: readonly WorkId[], at: number, code: string | null = null): void {
    this.load(job, kwargsKey, "", at, code);
    for (const id of workIds) this.load(job, kwargsKey, workIdKey(id), at, code);
  }

  codeHash(job: string, kwargsKey: string, workId: WorkId | null): string | undefined {
    return this.nodes.get(`${job}\u0000${kwargsKey}`)?.codes.get(workId === null ? "" : workIdKey(workId));
  }

  kwargsKeys(job: string): string[] {
    const prefix = `${job}\u0000`;
    return [...this.nodes.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  }

  lastSuccess(job: string, kwargsKey: string, workId: WorkId | null): number | undefined {
    const node = this.nodes.get(`${job}\u0000${kwargsKey}`);
    if (!node) return undefined;
    return workId === null ? node.any || undefined : node.ids.get(workIdKey(workId));
  }
}
