import type { ChunkState, RunStatus } from "../store/records.js";
import type { JobState } from "./views.js";

// A small palette that reads on light and dark terminals alike: named colors carry
// meaning only (red fails, green succeeds, cyan runs, yellow waits), selection is
// inverse, nothing sets a background. Ink's chalk drops all of it under NO_COLOR, so
// the focused pane and the selected row also carry a text marker.

export type Tone = "red" | "green" | "yellow" | "cyan" | undefined;

export interface Look {
  readonly color?: Tone;
  readonly dim?: boolean;
  readonly bold?: boolean;
}

const STATES: Record<JobState | ChunkState | RunStatus, Look> = {
  idle: { dim: true },
  queued: { color: "yellow" },
  pending: { color: "yellow" },
  waiting: { color: "yellow" },
  running: { color: "cyan" },
  done: { color: "green" },
  failed: { color: "red" },
  broken: { color: "red", bold: true },
  upstream_failed: { color: "red", dim: true },
  cancelled: { dim: true },
};

/** How a state word looks. */
export function stateLook(state: JobState | ChunkState | RunStatus): Look {
  return STATES[state];
}

/** How a log level looks. */
export function levelLook(level: string): Look {
  return level === "error" ? { color: "red" } : level === "warn" ? { color: "yellow" } : {};
}

/** Marker before the selected row of the focused pane (visible without color). */
export const SELECTED_MARK = "›";
/** Marker before the focused pane's title. */
export const FOCUS_MARK = "▸";
