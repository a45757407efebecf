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
  /** The scheduler fires nothing now: "next" says so instead of a time that will not come. */
  readonly schedule: "on" | "paused" | "draining";
}

// Columns after the name, each as wide as its widest realistic value: state "running",
// last run "cancelled 59m ago", next "in 23h" or "paused", fresh "59m ago". Ages are
// one unit (format.ts), so these widths hold for any age below 100 days.
const STATE = 7;
const LAST_RUN = 17;
const NEXT = 6;
const FRESH = 7;
/** Everything but the name: the row marker, four columns and a space before each. */
const FIXED = 2 + 1 + STATE + 1 + LAST_RUN + 1 + NEXT + 1 + FRESH;
const MIN_NAME = 8;
const MAX_NAME = 32;

const LAST: Record<string, string> = { done: "ok", failed: "failed", upstream_failed: "upstream", cancelled: "cancelled" };

/** The width the Jobs pane needs to show every value uncut (the layout gives it when it can). */
export function jobsPaneWidth(jobs: readonly JobRow[]): number {
  return FIXED + Math.min(MAX_NAME, Math.max(MIN_NAME, longestName(jobs)));
}

function longestName(jobs: readonly JobRow[]): number {
  let max = 0;
  for (const job of jobs) if (job.name.length > max) max = job.name.length;
  return max;
}

/** Every job: state, last run, next scheduled fire, freshness (age of the last success). */
export function JobsPane({ jobs, selected, top, now, schedule, ...pane }: JobsPaneProps) {
  const rows = pane.height - 1;
  const heading = listTitle("Jobs", jobs.length, selected, rows);
  // Once per job list, not per row: the widest name (or the heading) sets the first column.
  const longest = useMemo(() => longestName(jobs), [jobs]);
  const nameWidth = Math.min(Math.max(MIN_NAME, longest, heading.length), Math.max(MIN_NAME, pane.width - FIXED), MAX_NAME);
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
            <Next fire={job.nextFire} now={now} schedule={schedule} /> {job.lastSuccess === null ? <Text dimColor>never</Text> : ago(job.lastSuccess, now)}
          </>
        )}
      />
    </Pane>
  );
}

/** A paused scheduler fires nothing, and a draining stau never again: no countdown then. */
function Next({ fire, now, schedule }: { fire: number | null; now: number; schedule: JobsPaneProps["schedule"] }) {
  if (fire === null || schedule === "draining") return <>{cell("-", NEXT)}</>;
  if (schedule === "paused") return <Styled look={{ color: "yellow" }}>{cell("paused", NEXT)}</Styled>;
  return <>{cell(until(fire, now), NEXT)}</>;
}
