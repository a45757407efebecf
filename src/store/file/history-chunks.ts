import { existsSync, mkdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { ArchivedRun, ChunkRecord, ChunkState } from "../records.js";
import { statesOf } from "../run-summary.js";
import { replaceDurably } from "./durable-write.js";
import { writeJoined } from "./joined-json.js";

/** Runs of more chunks than this keep them apart from their history line. */
export const CHUNKS_APART_OVER = 100;

/** What a history line says of chunks kept apart: enough to list the run and find its jobs without them. */
export interface ApartChunks {
  readonly count: number;
  readonly states: Readonly<Partial<Record<ChunkState, number>>>;
  readonly jobs: readonly string[];
}

/**
 * The chunks of a large finished run, in a file of their own (`history/chunks/<run>.json`),
 * so its history line stays a few hundred bytes: listing the newest runs never reads
 * a hundred thousand chunks. The file is written durably before the line that points at
 * it is appended: a crash between leaves a file no line counts yet (the run is still
 * active in the journal and is archived again), never a line without its chunks.
 */
export class ApartChunkFiles {
  constructor(private readonly dir: string) {}

  private file(runId: string): string {
    return join(this.dir, `${runId}.json`);
  }

  write(archived: ArchivedRun): ApartChunks {
    if (!existsSync(this.dir)) mkdirSync(this.dir, { recursive: true });
    replaceDurably(this.file(archived.run.id), (fd) => writeJoined(fd, "[", archived.chunks, (chunk) => JSON.stringify(chunk), "]"));
    return { count: archived.chunks.length, states: statesOf(archived.chunks), jobs: [...new Set(archived.chunks.map((c) => c.job))] };
  }

  /** The run's chunks, or what is wrong with their file. */
  read(runId: string): ChunkRecord[] | { problem: string } {
    const file = this.file(runId);
    try {
      const chunks = JSON.parse(readFileSync(file, "utf8")) as unknown;
      if (Array.isArray(chunks) && chunks.every((c) => typeof c === "object" && c !== null && !Array.isArray(c))) return chunks as ChunkRecord[];
      return { problem: `${file} does not hold an array of chunks` };
    } catch (error) {
      return { problem: `${file} cannot be read: ${(error as Error).message}` };
    }
  }

  remove(runId: string): void {
    try {
      unlinkSync(this.file(runId));
    } catch {
      // Already gone.
    }
  }
}
