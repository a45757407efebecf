import { Box, Text } from "ink";
import type { ReactNode } from "react";
import type { ConsoleState } from "./state.js";
import { Styled } from "./Styled.js";
import { levelLook } from "./theme.js";

export interface FooterProps {
  readonly state: Pick<ConsoleState, "logs" | "notice" | "quit">;
  readonly width: number;
}

const HINTS = "? help · Tab pane · ↑↓ move · t trigger · r retry · l logs · / search · q quit";

/** The bottom line: the search being typed, else the latest notice, else key hints. */
export function Footer({ state, width }: FooterProps) {
  return (
    <Box width={width} height={1} overflowY="hidden">
      {line(state)}
    </Box>
  );
}

function line({ logs, notice, quit }: FooterProps["state"]): ReactNode {
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
      <Text wrap="truncate-end">
        <Styled look={levelLook(notice.level)}>{notice.text}</Styled>
      </Text>
    );
  }
  return (
    <Text wrap="truncate-end" dimColor>
      {quit === "running" ? HINTS : quit === "draining" ? "stopping… Ctrl+C forces" : "forcing stop…"}
    </Text>
  );
}
