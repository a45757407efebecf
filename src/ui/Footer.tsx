import { Text } from "ink";
import type { ConsoleState } from "./state.js";

export interface FooterProps {
  readonly state: Pick<ConsoleState, "logs" | "notice" | "quit">;
  readonly width: number;
}

const HINTS = "? help · Tab pane · ↑↓ move · t trigger · r retry · l logs · / search · q quit";

/** The bottom line: the search being typed, else the latest notice, else key hints. */
export function Footer({ state, width }: FooterProps) {
  const { logs, notice, quit } = state;
  if (logs.editing) {
    return (
      <Text wrap="truncate-start">
        <Text bold>/</Text>
        {logs.query}
        <Text inverse> </Text>
        <Text dimColor> Enter keeps · Esc drops</Text>
      </Text>
    );
  }
  if (notice) {
    return (
      <Text wrap="truncate-end" color={notice.level === "error" ? "red" : notice.level === "warn" ? "yellow" : undefined}>
        {notice.text}
      </Text>
    );
  }
  return (
    <Text wrap="truncate-end" dimColor>
      {quit === "running" ? HINTS.slice(0, Math.max(0, width)) : quit === "draining" ? "stopping… Ctrl+C forces" : "forcing stop…"}
    </Text>
  );
}
