import { createContext } from "react";
import type { ChunkState, RunStatus } from "../store/records.js";
import type { JobState } from "./views.js";

// A small palette that reads on light and dark terminals alike: named colors carry
// meaning only (red fails, green succeeds, cyan runs, yellow waits), selection is
// inverse, nothing sets a background. Ink's chalk does not read NO_COLOR, so the
// console does (see colorAllowed); bold, dim and inverse are not colors and stay, and
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

/**
 * Whether named colors may be used: not when NO_COLOR is set to anything non-empty
 * (https://no-color.org). Whether the terminal supports color at all is chalk's call.
 */
export function colorAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NO_COLOR === undefined || env.NO_COLOR === "";
}

/** Read by Styled: false drops every named color from the frame. */
export const ColorContext = createContext(true);
