import type { ArchivedRun, ChunkRecord, ChunkState, RunRecord } from "./records.js";

/**
 * A run with its chunks counted by state, without the chunks themselves: what `stau runs`
 * lists, read without reading a run's hundred thousand chunks.
 */
export interface RunSummary {
  readonly run: RunRecord;
  /** How many of its chunks are in each state (a state none is in is absent). */
  readonly states: Readonly<Partial<Record<ChunkState, number>>>;
}

/** Chunks counted by state. */
export function statesOf(chunks: readonly ChunkRecord[]): Partial<Record<ChunkState, number>> {
  const states: Partial<Record<ChunkState, number>> = {};
  for (const chunk of chunks) states[chunk.state] = (states[chunk.state] ?? 0) + 1;
  return states;
}

export function summarize({ run, chunks }: ArchivedRun): RunSummary {
  return { run, states: statesOf(chunks) };
}
