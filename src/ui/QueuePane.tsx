import { Text } from "ink";
import { cell, chunkLabel, until, workIds } from "./format.js";
import { ListBody, listTitle, Pane, type PaneProps } from "./Pane.js";
import { Styled } from "./Styled.js";
import { stateLook } from "./theme.js";
import type { QueueRow } from "./views.js";

export interface QueuePaneProps extends PaneProps {
  readonly queue: readonly QueueRow[];
  readonly selected: number;
  readonly top: number;
  readonly now: number;
}

/** Waiting runs first (with what they wait for), then queued and pending chunks. */
export function QueuePane({ queue, selected, top, now, ...pane }: QueuePaneProps) {
  const rows = pane.height - 1;
  return (
    <Pane title={listTitle("Queue", queue.length, selected, rows)} {...pane}>
      <ListBody
        items={queue}
        selected={selected}
        top={top}
        rows={rows}
        focused={pane.focused}
        empty="nothing queued"
        render={(row) =>
          row.kind === "run" ? (
            <>
              <Styled look={stateLook("waiting")}>{cell("waiting", 8)}</Styled> {row.run.job} <Text dimColor>run {row.run.id}</Text>
              {row.on.length > 0 ? ` waits for ${row.on.join(", ")}` : ""}
            </>
          ) : (
            <>
              <Styled look={stateLook(row.chunk.state)}>{cell(row.chunk.state, 8)}</Styled> {chunkLabel(row.chunk.id)} {workIds(row.chunk.workIds)}
              {row.chunk.notBefore !== null && row.chunk.notBefore > now ? <Styled look={stateLook("queued")}> retry {until(row.chunk.notBefore, now)}</Styled> : null}
              {row.chunk.attempts > 0 ? <Text dimColor> attempt {row.chunk.attempts + 1}</Text> : null}
            </>
          )
        }
      />
    </Pane>
  );
}
