import { Box, Text } from "ink";
import { Fragment } from "react";
import { shortDuration } from "./format.js";
import { Styled } from "./Styled.js";
import type { DataState } from "./state.js";
import { stateLook } from "./theme.js";
import type { ChunkCounts, FailureCounts } from "./views.js";

export interface HeaderProps {
  readonly data: DataState;
  readonly counts: ChunkCounts;
  readonly failures: FailureCounts;
  readonly now: number;
  /** 1 draws only the first line. */
  readonly height: number;
  readonly width: number;
}

const WARN = { color: "yellow" } as const;
/** Nearest to running first. The first four always show, so the line does not jump; the rest only when some. */
const ORDER = ["running", "claimed", "pending", "queued", "done", "failed", "upstream_failed", "cancelled"] as const;
const ALWAYS: ReadonlySet<string> = new Set(["running", "pending", "queued", "done"]);

/**
 * Project (and the instance an attached console shows), workers busy/total, what the
 * scheduler does, a store that cannot write, uptime, store; then the chunks of the runs
 * in flight per state, and what the Failures pane holds. What changes comes before the
 * store's path, which can be long: a narrow terminal cuts the path, not the state. The
 * two counts count different things — a finished run's failed chunks stay in Failures
 * after the chunk counts of active runs dropped to zero — so each part says what it counts.
 */
export function Header({ data, counts, failures, now, height, width }: HeaderProps) {
  const shown = ORDER.filter((state) => ALWAYS.has(state) || counts[state] > 0);
  const active = ORDER.some((state) => counts[state] > 0);
  const failed = [failures.chunks > 0 ? `${failures.chunks} chunk${failures.chunks === 1 ? "" : "s"}` : null, failures.runs > 0 ? `${failures.runs} run${failures.runs === 1 ? "" : "s"}` : null].filter(Boolean).join(", ");
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <Text wrap="truncate-end">
        <Text bold>stau</Text> {data.project}{" "}
        {data.attachedTo ? <Styled look={WARN}>attached to stau {data.attachedTo.command} (pid {data.attachedTo.pid}) </Styled> : null}
        <Text dimColor>·</Text> workers {data.busy}/{data.workers} <Text dimColor>·</Text> <Scheduler data={data} />
        {data.storeProblem ? <Styled look={stateLook("failed")}> · store cannot write: claiming stopped</Styled> : null}
        <Text dimColor>
          {" "}
          · up {shortDuration(now - data.startedAt)} · store {data.store}
        </Text>
      </Text>
      {height > 1 ? (
        <Text wrap="truncate-end">
          <Text dimColor>chunks of active runs: </Text>
          {active
            ? shown.map((state, i) => (
                <Fragment key={state}>
                  {i > 0 ? <Text dimColor> · </Text> : null}
                  <Styled look={counts[state] > 0 ? stateLook(state === "claimed" ? "queued" : state) : { dim: true }}>
                    {counts[state]} {state.replace("_", " ")}
                  </Styled>
                </Fragment>
              ))
            : <Text dimColor>none</Text>}
          <Text dimColor> │ </Text>
          {failed ? <Styled look={stateLook("failed")}>failed in recent runs: {failed}</Styled> : <Text dimColor>no failures in recent runs</Text>}
          {failures.broken > 0 ? (
            <>
              <Text dimColor> │ </Text>
              <Styled look={stateLook("broken")}>broken jobs: {failures.broken}</Styled>
            </>
          ) : null}
        </Text>
      ) : null}
    </Box>
  );
}

/**
 * Draining wins: a stopping stau fires nothing, whatever the pause says. Short, as it
 * ends a line that a long store path already fills; the footer's notice says the rest.
 */
function Scheduler({ data }: { data: DataState }) {
  if (data.draining) return <Styled look={WARN}>draining: nothing new starts</Styled>;
  if (data.paused) return <Styled look={WARN}>scheduler paused</Styled>;
  return <>scheduler on</>;
}
