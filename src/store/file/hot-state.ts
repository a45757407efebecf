import type { LowSync } from "lowdb";
import type { ScheduleMark } from "../../schedule/ticks.js";
import type { ChunkRecord, RunRecord } from "../records.js";
import { writeJoined } from "./joined-json.js";
import { openSnapshot, type SnapshotCodec } from "./snapshot-file.js";

/** Hot state: only what is not finished yet, so its size follows the work in flight. */
export interface HotState {
  format: 1;
  /** The journal sequence number this snapshot includes. */
  seq: number;
  runs: Record<string, RunRecord>;
  /**
   * By id. A Map, not an object as in the file: a million chunk ids as an object's keys
   * would each be copied into V8's table of property names, and the object's own table
   * costs twice a Map's (~60 bytes a chunk together, measured in a million-chunk run).
   */
  chunks: Map<string, ChunkRecord>;
  marks: Record<string, ScheduleMark>;
  /** The newest tick of each schedule entry a run was created for (absent in older snapshots). */
  fired?: Record<string, number>;
}

const hotStateJson: SnapshotCodec<HotState> = {
  fromJson(data) {
    const file = data as Omit<HotState, "chunks"> & { chunks: Record<string, ChunkRecord> };
    return { ...file, chunks: new Map(Object.entries(file.chunks)) };
  },
  writeJson(fd, state) {
    const { chunks, ...rest } = state;
    // `rest` always holds `format`: its JSON ends in "}", which the chunks go before.
    writeJoined(fd, `${JSON.stringify(rest).slice(0, -1)},"chunks":{`, chunks, ([id, chunk]) => `${JSON.stringify(id)}:${JSON.stringify(chunk)}`, "}}");
  },
};

/** The hot state's snapshot, `state.json` (see openSnapshot for what is refused). */
export function openHotState(file: string): LowSync<HotState> {
  return openSnapshot(file, () => ({ format: 1, seq: 0, runs: {}, chunks: {}, marks: {} }), hotStateJson);
}
