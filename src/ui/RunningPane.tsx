import { Text } from "ink";
import type { ChunkRecord } from "../store/records.js";
import { bar, cell, chunkLabel, shortDuration, spinner } from "./format.js";
import { ListBody, listTitle, Pane, type PaneProps } from "./Pane.js";
import { Styled } from "./Styled.js";
import { stateLook } from "./theme.js";
import type { Progress } from "./state.js";

export interface RunningPaneProps extends PaneProps {
  readonly running: readonly ChunkRecord[];
  readonly progress: ReadonlyMap<string, Progress>;
  readonly selected: number;
  readonly top: number;
  readonly now: number;
  readonly workers: number;
  readonly busy: number;
}

const BAR = 12;

/** Running chunks: the worker (w1…wN), chunk id, elapsed time (from the shared clock), progress from chunk:progress. */
export function RunningPane({ running, progress, selected, top, now, workers, busy, ...pane }: RunningPaneProps) {
  const rows = pane.height - 1;
  const labelWidth = Math.max(12, Math.min(28, pane.width - BAR - 28));
  return (
    <Pane title={`${listTitle("Running", running.length, selected, rows)} · workers ${busy}/${workers}`} {...pane}>
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
              <Styled look={stateLook("running")}>{spinner(now)}</Styled> <Text dimColor>{cell(chunk.worker ? `w${chunk.worker}` : "", 3)}</Text> {cell(chunkLabel(chunk.id), labelWidth)} {cell(shortDuration(now - (chunk.startedAt ?? now)), 6)}{" "}
              {p ? `${bar(p.done, p.total, BAR)} ${cell(`${p.done}/${p.total}`, 11)}` : <Text dimColor>{cell("", BAR)} no progress</Text>}
              {chunk.attempts > 1 ? <Text dimColor> attempt {chunk.attempts}</Text> : null}
            </>
          );
        }}
      />
    </Pane>
  );
}
