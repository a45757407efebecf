import { Text } from "ink";
import { useMemo } from "react";
import { ago, cell, until } from "./format.js";
import { ListBody, listTitle, Pane, type PaneProps } from "./Pane.js";
import { Styled } from "./Styled.js";
import { stateLook } from "./theme.js";
import type { JobRow } from "./views.js";

export interface JobsPaneProps extends PaneProps {
  readonly jobs: readonly JobRow[];
  readonly selected: number;
  readonly top: number;
  readonly now: number;
}

// Column widths after the name; the name gets what is left (marker 2 + gaps 4 + fresh 7).
const STATE = 8;
const LAST_RUN = 14;
const NEXT = 8;
const FIXED = 2 + STATE + LAST_RUN + NEXT + 4 + 7;

const LAST: Record<string, string> = { done: "ok", failed: "failed", upstream_failed: "upstream", cancelled: "cancelled" };

/** Every job: state, last run, next scheduled fire, freshness (age of the last success). */
export function JobsPane({ jobs, selected, top, now, ...pane }: JobsPaneProps) {
  const rows = pane.height - 1;
  const heading = listTitle("Jobs", jobs.length, selected, rows);
  // Once per job list, not per row: the widest name (or the heading) sets the first column.
  const longest = useMemo(() => jobs.reduce((max, job) => Math.max(max, job.name.length), 0), [jobs]);
  const nameWidth = Math.min(Math.max(8, longest, heading.length), Math.max(8, pane.width - FIXED), 32);
  const title = `${cell(heading, nameWidth)} ${cell("state", STATE)} ${cell("last run", LAST_RUN)} ${cell("next", NEXT)} fresh`;
  return (
    <Pane title={title} {...pane}>
      <ListBody
        items={jobs}
        selected={selected}
        top={top}
        rows={rows}
        focused={pane.focused}
        empty="no jobs in jobs/"
        render={(job) => (
          <>
            {cell(job.name, nameWidth)} <Styled look={stateLook(job.state)}>{cell(job.state, STATE)}</Styled>{" "}
            {job.lastRun ? <Styled look={stateLook(job.lastRun.state)}>{cell(`${LAST[job.lastRun.state] ?? job.lastRun.state} ${ago(job.lastRun.at, now)}`, LAST_RUN)}</Styled> : <Text dimColor>{cell("never", LAST_RUN)}</Text>}{" "}
            {cell(until(job.nextFire, now), NEXT)} {job.lastSuccess === null ? <Text dimColor>never</Text> : ago(job.lastSuccess, now)}
          </>
        )}
      />
    </Pane>
  );
}
