import { Box, Text } from "ink";
import type { ChunkState } from "../store/records.js";
import { shortDuration } from "./format.js";
import { Styled } from "./Styled.js";
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

const WARN = { color: "yellow" } as const;
const ORDER: readonly ChunkState[] = ["running", "queued", "pending", "done", "failed", "upstream_failed", "cancelled"];

/** Project, store, uptime, workers busy/total, scheduler state; then chunks per state. */
export function Header({ data, counts, failures, now, height, width }: HeaderProps) {
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <Text wrap="truncate-end">
        <Text bold>stau</Text> {data.project} <Text dimColor>· store {data.store} · up {shortDuration(now - data.startedAt)} ·</Text> workers {data.busy}/
        {data.workers} <Text dimColor>·</Text> {data.paused ? <Styled look={WARN}>scheduler paused</Styled> : "scheduler on"}
        {data.draining ? <Styled look={WARN}> · draining</Styled> : null}
        {data.storeProblem ? <Styled look={stateLook("failed")}> · store cannot write: claiming stopped</Styled> : null}
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
          {failures > 0 ? <Styled look={stateLook("failed")}>failures {failures}</Styled> : <Text dimColor>failures 0</Text>}
        </Text>
      ) : null}
    </Box>
  );
}
