import { Text } from "ink";
import type { ChunkRecord } from "../store/records.js";
import { bar, cell, chunkLabel, shortDuration, spinner } from "./format.js";
import { ListBody, listTitle, Pane, type PaneProps } from "./Pane.js";
import { Styled } from "./Styled.js";
import { stateLook } from "./theme.js";
import type { Progress } from "./state.js";
import { visibleWindow } from "./virtual-list.js";

export interface RunningPaneProps extends PaneProps {
  readonly running: readonly ChunkRecord[];
  readonly progress: ReadonlyMap<string, Progress>;
  readonly selected: number;
  readonly top: number;
  readonly now: number;
  readonly workers: number;
  readonly busy: number;
  /** Chunks claimed ahead of a free thread (listed in Queue). */
  readonly claimed?: number;
  /** Chunks sent to a thread in a batch that wait for the ones before them, or ended with their results on the way. */
  readonly inBatches?: { readonly waiting: number; readonly ended: number };
}

const NONE = { waiting: 0, ended: 0 };

/** Worker "w16", elapsed "59m" (one unit: format.ts), progress "1000/1000". */
const WORKER = 3;
const ELAPSED = 3;
const COUNT = 9;
const MIN_BAR = 6;
const MAX_BAR = 20;

/** The chunk as its log lines are tagged, without the brackets: `daily_stats.3#2` (the attempt only from the second). */
const label = (chunk: ChunkRecord) => `${chunkLabel(chunk.id)}${chunk.attempts > 1 ? `#${chunk.attempts}` : ""}`;

/** Chunks on a worker thread: the worker (w1…wN), chunk, elapsed time (the shared clock), progress from chunk:progress. */
export function RunningPane({ running, progress, selected, top, now, workers, busy, claimed = 0, inBatches = NONE, ...pane }: RunningPaneProps) {
  const rows = pane.height - 1;
  // The label column fits the longest label on screen (a handful of rows, so cheap per
  // frame); the bar takes what is left, so a narrow pane loses bar, not values.
  const window = visibleWindow(running.length, selected, rows, top);
  let labelWidth = 8;
  for (let i = window.start; i < window.end; i++) labelWidth = Math.max(labelWidth, label(running[i]).length);
  const fixed = 2 + 2 + WORKER + 1 + 1 + ELAPSED + 1 + 1 + COUNT;
  labelWidth = Math.min(labelWidth, Math.max(8, pane.width - fixed - MIN_BAR));
  const barWidth = Math.max(MIN_BAR, Math.min(MAX_BAR, pane.width - fixed - labelWidth));
  const batches = `${inBatches.waiting > 0 ? ` · ${inBatches.waiting} waiting for a thread` : ""}${inBatches.ended > 0 ? ` · ${inBatches.ended} ended, being recorded` : ""}`;
  const title = `${listTitle("Running", running.length, selected, rows)} · workers ${busy}/${workers}${batches}${claimed > 0 ? ` · ${claimed} claimed ahead (Queue)` : ""}`;
  return (
    <Pane title={title} {...pane}>
      <ListBody
        items={running}
        selected={selected}
        top={top}
        rows={rows}
        focused={pane.focused}
        empty="no chunk running"
        render={(chunk) => {
          const p = progress.get(chunk.id);
          return (
            <>
              <Styled look={stateLook("running")}>{spinner(now)}</Styled> <Text dimColor>{cell(chunk.worker ? `w${chunk.worker}` : "", WORKER)}</Text> {cell(label(chunk), labelWidth)}{" "}
              {cell(shortDuration(now - (chunk.startedAt ?? now)), ELAPSED)} {p ? `${bar(p.done, p.total, barWidth)} ${p.done}/${p.total}` : <Text dimColor>{cell("", barWidth)} no progress</Text>}
            </>
          );
        }}
      />
    </Pane>
  );
}
