import { Text } from "ink";
import { useMemo } from "react";
import { ago, cell, until } from "./format.js";
import { ListBody, listTitle, Pane, Styled, type PaneProps } from "./Pane.js";
import { stateLook } from "./theme.js";
import type { JobRow } from "./views.js";

export interface JobsPaneProps extends PaneProps {
  readonly jobs: readonly JobRow[];
  readonly selected: number;
  readonly top: number;
  readonly now: number;
}

const LAST: Record<string, string> = { done: "ok", failed: "failed", upstream_failed: "upstream", cancelled: "cancelled" };

/** Every job: state, last run, next scheduled fire, freshness (age of the last success). */
export function JobsPane({ jobs, selected, top, now, ...pane }: JobsPaneProps) {
  const rows = pane.height - 1;
  const heading = listTitle("Jobs", jobs.length, selected, rows);
  // Once per job list, not per row: the widest name (or the heading) sets the first column.
  const longest = useMemo(() => jobs.reduce((max, job) => Math.max(max, job.name.length), 0), [jobs]);
  const nameWidth = Math.min(Math.max(8, longest, heading.length), Math.max(8, pane.width - 48), 32);
  const title = `${cell(heading, nameWidth)} ${cell("state", 8)} ${cell("last run", 16)} ${cell("next", 9)} fresh`;
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
            {cell(job.name, nameWidth)} <Styled look={stateLook(job.state)}>{cell(job.state, 8)}</Styled>{" "}
            {job.lastRun ? <Styled look={stateLook(job.lastRun.state)}>{cell(`${LAST[job.lastRun.state] ?? job.lastRun.state} ${ago(job.lastRun.at, now)}`, 16)}</Styled> : <Text dimColor>{cell("never", 16)}</Text>}{" "}
            {cell(until(job.nextFire, now), 9)} {job.lastSuccess === null ? <Text dimColor>never</Text> : ago(job.lastSuccess, now)}
          </>
        )}
      />
    </Pane>
  );
}
