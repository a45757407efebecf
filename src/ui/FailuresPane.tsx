import { Text } from "ink";
import { ago, cell, chunkLabel, firstLine, printable } from "./format.js";
import { ListBody, listTitle, Pane, type PaneProps } from "./Pane.js";
import { Styled } from "./Styled.js";
import { stateLook } from "./theme.js";
import type { FailureRow } from "./views.js";

export interface FailuresPaneProps extends PaneProps {
  readonly failures: readonly FailureRow[];
  readonly selected: number;
  readonly top: number;
  readonly now: number;
}

/** Broken job files and failed chunks (newest first), each with the first line of its error. */
export function FailuresPane({ failures, selected, top, now, ...pane }: FailuresPaneProps) {
  const rows = pane.height - 1;
  return (
    <Pane title={`${listTitle("Failures", failures.length, selected, rows)}${failures.length > 0 ? " · Enter: whole error" : ""}`} {...pane}>
      <ListBody
        items={failures}
        selected={selected}
        top={top}
        rows={rows}
        focused={pane.focused}
        empty="no failures"
        render={(row) => {
          if (row.kind === "broken") {
            return (
              <>
                <Styled look={stateLook("broken")}>{cell("broken", 7)}</Styled> {row.job.name}: {printable(firstLine(row.job.broken ?? ""))}
              </>
            );
          }
          if (row.kind === "run") {
            return (
              <>
                <Styled look={stateLook("failed")}>{cell("failed", 7)}</Styled> {row.run.job} run {row.run.id}: {printable(firstLine(row.run.error ?? ""))}
              </>
            );
          }
          const { chunk } = row;
          return (
            <>
              <Styled look={stateLook("failed")}>{cell("failed", 7)}</Styled> {chunkLabel(chunk.id)} <Text dimColor>{ago(chunk.finishedAt, now)}</Text>{" "}
              {chunk.error ? `${chunk.error.kind === "error" ? "" : `${chunk.error.kind}: `}${printable(firstLine(chunk.error.message))}` : ""}
            </>
          );
        }}
      />
    </Pane>
  );
}
