import { Text } from "ink";
import type { ChunkRecord } from "../store/records.js";
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

/** "claimed", "pending", "queued" and "waiting" are all this wide. */
const STATE = 7;

/**
 * The attempt a chunk will run as, tagged as its log lines will be (`#3`); nothing for
 * a first attempt. A chunk the store calls running here is claimed: its attempt is counted.
 */
function attemptMark(chunk: ChunkRecord): string {
  const next = chunk.state === "running" ? chunk.attempts : chunk.attempts + 1;
  return next > 1 ? `#${next}` : "";
}

/** Waiting runs first (with what they wait for), then chunks claimed ahead of a thread, then pending and queued ones. */
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
        render={(row) => {
          if (row.kind === "summary") {
            const { claimed, pending, queued } = row.counts;
            const parts = [claimed > 0 ? `${claimed} claimed` : null, pending > 0 ? `${pending} pending` : null, queued > 0 ? `${queued} queued` : null].filter(Boolean);
            return (
              <>
                <Styled look={stateLook("queued")}>{cell("chunks", STATE)}</Styled> {row.run.job} <Text dimColor>run {row.run.id}</Text> {parts.join(" · ")}
              </>
            );
          }
          if (row.kind === "run") {
            return (
              <>
                <Styled look={stateLook("waiting")}>{cell("waiting", STATE)}</Styled> {row.run.job} <Text dimColor>run {row.run.id}</Text>
                {row.on.length > 0 ? ` after ${row.on.join(", ")}` : ""}
              </>
            );
          }
          const { chunk } = row;
          const claimed = chunk.state === "running";
          return (
            <>
              <Styled look={stateLook(claimed ? "queued" : chunk.state)}>{cell(claimed ? "claimed" : chunk.state, STATE)}</Styled> {chunkLabel(chunk.id)}
              {attemptMark(chunk)} {workIds(chunk.workIds)}
              {chunk.notBefore !== null && chunk.notBefore > now ? <Styled look={stateLook("queued")}> retry {until(chunk.notBefore, now)}</Styled> : null}
            </>
          );
        }}
      />
    </Pane>
  );
}
