import { Text } from "ink";
import { useMemo } from "react";
import { highlightParts, visibleLogRows } from "./log-view.js";
import { Pane, type PaneProps } from "./Pane.js";
import { Styled } from "./Styled.js";
import type { LogsState } from "./state.js";
import { levelLook } from "./theme.js";

export interface LogsPaneProps extends PaneProps {
  readonly logs: LogsState;
}

/** The selected job's log lines (or all jobs', prefixed), following, searchable, wrappable. */
export function LogsPane({ logs, ...pane }: LogsPaneProps) {
  const rows = pane.height - 1;
  // Width for text: the pane minus the two-column row marker.
  const visible = useMemo(() => visibleLogRows(logs, rows, Math.max(1, pane.width - 2)), [logs, rows, pane.width]);
  const flags = [logs.follow ? "following" : "paused (f follows)", logs.wrap ? "wrap" : null, logs.query ? `/${logs.query}` : null].filter(Boolean).join(" · ");
  return (
    <Pane title={`Logs · ${logs.scope ?? "all jobs"} · ${flags}`} {...pane}>
      {visible.length === 0 && rows > 0 ? <Text dimColor>{`  ${logs.request ? "reading logs…" : logs.query ? "no line matches the search" : "no log lines yet"}`}</Text> : null}
      {visible.map((row) => (
        <Text key={row.key} wrap="truncate-end">
          {"  "}
          <Text dimColor>{row.prefix}</Text>
          <Styled look={levelLook(row.level)}>
            {highlightParts(row.text, logs.query).map((part, i) =>
              part.match ? (
                <Text key={i} inverse>
                  {part.text}
                </Text>
              ) : (
                part.text
              ),
            )}
          </Styled>
        </Text>
      ))}
    </Pane>
  );
}
