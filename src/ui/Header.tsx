import { Box, Text } from "ink";
import type { ChunkState } from "../store/records.js";
import { shortDuration } from "./format.js";
import { Styled } from "./Pane.js";
import type { DataState } from "./state.js";
import { stateLook } from "./theme.js";

export interface HeaderProps {
  readonly data: DataState;
  readonly counts: Readonly<Record<ChunkState, number>>;
  readonly failures: number;
  readonly now: number;
  /** 1 draws only the first line. */
  readonly height: number;
  readonly width: number;
}

const ORDER: readonly ChunkState[] = ["running", "queued", "pending", "done", "failed", "upstream_failed", "cancelled"];

/** Project, store, uptime, workers busy/total, scheduler state; then chunks per state. */
export function Header({ data, counts, failures, now, height, width }: HeaderProps) {
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text wrap="truncate-end">
        <Text bold>stau</Text> {data.project} <Text dimColor>· store {data.store} · up {shortDuration(now - data.startedAt)} ·</Text> workers {data.busy}/
        {data.workers} <Text dimColor>·</Text> {data.paused ? <Text color="yellow">scheduler paused</Text> : "scheduler on"}
        {data.draining ? <Text color="yellow"> · draining</Text> : null}
      </Text>
      {height > 1 ? (
        <Text wrap="truncate-end">
          <Text dimColor>chunks </Text>
          {ORDER.map((state) => (
            <Text key={state}>
              <Styled look={counts[state] > 0 ? stateLook(state) : { dim: true }}>
                {state.replace("_", " ")} {counts[state]}
              </Styled>
              {"  "}
            </Text>
          ))}
          <Text dimColor>│ </Text>
          {failures > 0 ? <Text color="red">failures {failures}</Text> : <Text dimColor>failures 0</Text>}
        </Text>
      ) : null}
    </Box>
  );
}
