import type { HeatmapData } from "../console/contract.js";
import { heatmapOf } from "../console/heatmap.js";
import type { ArchivedRun, ChunkRecord } from "../store/records.js";
import { gridColumns, HEATMAP_CHROME, moveCursor, scrollTo } from "./heatmap.js";
import type { Command } from "./key-map.js";
import { computeLayout } from "./layout.js";
import { overlayRows } from "./overlay-reducer.js";
import type { ConsoleState, Overlay } from "./state.js";

// The heatmap dialog (`h`): asking for the selected job's latest run, moving the cursor
// over its work IDs, and keeping the data current while that run is still going.

type Heatmap = Extract<Overlay, { kind: "heatmap" }>;

/** While the run is active the heatmap is asked for again this often. */
const REFRESH_MS = 1_000;

/** The grid's shape in this state: columns (the dialog's width) and visible rows. */
function grid(state: ConsoleState): { columns: number; rows: number } {
  return { columns: gridColumns(computeLayout(state.size, state.focus).width), rows: Math.max(1, overlayRows(state) - HEATMAP_CHROME) };
}

const active = (data: HeatmapData | null) => data !== null && (data.status === "running" || data.status === "waiting");

/** Opens the heatmap of `job` and asks for its data. */
export function openHeatmap(state: ConsoleState, job: string): ConsoleState {
  const request = state.nextRequest;
  const overlay: Heatmap = { kind: "heatmap", job, request, data: null, error: null, cursor: 0, scroll: 0, shade: "duration", askedAt: state.now };
  return { ...state, nextRequest: request + 1, overlay, effects: [...state.effects, { type: "heatmap", job, request }] };
}

/** Keys while the heatmap is open. */
export function heatmapCommand(state: ConsoleState, overlay: Heatmap, command: Command): ConsoleState {
  const withOverlay = (next: Heatmap) => ({ ...state, overlay: next });
  const count = overlay.data?.cells.length ?? 0;
  switch (command.type) {
    case "left":
    case "right":
    case "up":
    case "down":
    case "page-up":
    case "page-down":
    case "top":
    case "bottom": {
      const { columns, rows } = grid(state);
      const cursor = moveCursor(overlay.cursor, count, columns, command.type, rows);
      return cursor === overlay.cursor ? state : withOverlay({ ...overlay, cursor, scroll: scrollTo(overlay.scroll, cursor, columns, rows) });
    }
    case "shade":
      return withOverlay({ ...overlay, shade: overlay.shade === "duration" ? "age" : "duration" });
    case "confirm": {
      const cell = overlay.data?.cells[overlay.cursor];
      if (!cell) return state;
      return { ...state, effects: [...state.effects, { type: "chunk-log", job: overlay.job, chunkId: cell.chunkId, back: overlay }] };
    }
    case "close":
      return { ...state, overlay: null };
    default:
      return state;
  }
}

/**
 * An answer to a heatmap request. The first one puts the cursor on the first failure
 * (what a person opens a heatmap to find) and shades an idle job by age, a running one
 * by duration; later ones keep where the person is.
 */
export function heatmapAnswer(state: ConsoleState, request: number, data: HeatmapData | null, error: string | undefined): ConsoleState {
  const overlay = state.overlay;
  if (overlay?.kind !== "heatmap" || overlay.request !== request) return state;
  if (!data) return { ...state, overlay: { ...overlay, error: error ?? `${overlay.job} has no run among the newest runs`, data: null } };
  const first = overlay.data === null;
  const failed = data.cells.findIndex((cell) => cell.state === "failed");
  const cursor = first ? Math.max(0, failed) : Math.min(overlay.cursor, Math.max(0, data.cells.length - 1));
  const { columns, rows } = grid(state);
  const shade = first ? (active(data) ? "duration" : "age") : overlay.shade;
  return { ...state, overlay: { ...overlay, data, error: null, cursor, shade, scroll: scrollTo(overlay.scroll, cursor, columns, rows) } };
}

/**
 * On the clock: while the run is active its cells change as chunks end. The console
 * follows that run's chunks itself, so its own data answers; reading the store's newest
 * runs again each second is left for a run it does not hold chunk by chunk (one it does
 * not hold, or while it holds a run in sums: summarized-runs.ts).
 */
export function heatmapTick(state: ConsoleState): ConsoleState {
  const overlay = state.overlay;
  if (overlay?.kind !== "heatmap" || !active(overlay.data) || state.now - overlay.askedAt < REFRESH_MS) return state;
  const request = state.nextRequest;
  const asked = { ...state, nextRequest: request + 1, overlay: { ...overlay, request, askedAt: state.now } };
  const known = state.data.runs.has(overlay.data!.runId) && state.data.summarized.size === 0 ? heatmapOf(runsWithChunksOf(state, overlay.job), overlay.job) : null;
  if (known) return heatmapAnswer(asked, request, known, undefined);
  return { ...asked, effects: [...state.effects, { type: "heatmap", job: overlay.job, request }] };
}

/** The runs the console holds that have chunks of `job`, with those chunks. */
function runsWithChunksOf(state: ConsoleState, job: string): ArchivedRun[] {
  const byRun = new Map<string, ChunkRecord[]>();
  for (const chunk of state.data.chunks.values()) {
    if (chunk.job !== job) continue;
    const list = byRun.get(chunk.runId);
    if (list) list.push(chunk);
    else byRun.set(chunk.runId, [chunk]);
  }
  const runs: ArchivedRun[] = [];
  for (const [id, chunks] of byRun) {
    const run = state.data.runs.get(id);
    if (run) runs.push({ run, chunks });
  }
  return runs;
}
