import { Text } from "ink";
import type { ReactNode } from "react";
import type { PlanPreview, TriggerOptions } from "../console/contract.js";
import { cell, clockTime, shortDuration, until, workIds } from "./format.js";
import { Styled } from "./Styled.js";
import { stateLook, type Look } from "./theme.js";

export interface PlanDialogProps {
  readonly job: string;
  readonly preview: PlanPreview | null;
  readonly error: string | null;
  /** What the `T` form asked for. */
  readonly options?: TriggerOptions;
  readonly now: number;
  readonly scroll: number;
  readonly rows: number;
}

/** "HH:MM:SS (in 59m)": the widest a fresh-until value gets. */
const FRESH_WIDTH = 19;

const LOOK: Record<"run" | "fresh" | "skipped", Look> = { run: { color: "cyan" }, fresh: { color: "green" }, skipped: { dim: true } };

/**
 * What `t` would start: which jobs run and with how many chunks, which are
 * fresh and until when, and an ETA from past durations — before anything starts.
 */
export function PlanDialog({ job, preview, error, options, now, scroll, rows }: PlanDialogProps) {
  if (error) {
    return (
      <Text wrap="truncate-end">
        <Styled look={stateLook("failed")}>{`cannot plan ${job}: ${error}`}</Styled>
      </Text>
    );
  }
  if (!preview) return <Text dimColor>{`planning ${job}…`}</Text>;
  // A job needed under two kwargs is two rows, told apart by their kwargs.
  const names = preview.jobs.map((j) => (j.kwargs && Object.keys(j.kwargs).length > 0 ? `${j.job} ${JSON.stringify(j.kwargs)}` : j.job));
  const width = Math.min(40, names.reduce((max, name) => Math.max(max, name.length), 8));
  const head: ReactNode[] = [
    <Text key="sum" wrap="truncate-end">
      <Text bold>{preview.job}</Text>: {preview.workIds} work ID(s) · {preview.chunks} chunk(s)
    </Text>,
    <Text key="eta" wrap="truncate-end">
      {eta(preview)}
    </Text>,
  ];
  if (options?.kwargs && Object.keys(options.kwargs).length > 0) head.push(<Text key="kwargs" wrap="truncate-end">{`kwargs ${JSON.stringify(options.kwargs)}`}</Text>);
  if (options?.workIds) head.push(<Text key="ids" wrap="truncate-end">{`work IDs as typed: ${workIds(options.workIds)}`}</Text>);
  head.push(
    <Text key="gap"> </Text>,
    <Text key="head" dimColor wrap="truncate-end">{`${cell("job", width)} ${cell("will", 8)} ${cell("chunks", 7)} ${cell("fresh until", FRESH_WIDTH)} why`}</Text>,
  );
  // Only the rows that fit are built: a plan can span hundreds of jobs.
  const total = head.length + preview.jobs.length;
  const first = Math.max(0, Math.min(scroll, total - rows));
  const lines: ReactNode[] = [];
  for (let i = first; i < Math.min(total, first + rows); i++) {
    if (i < head.length) {
      lines.push(head[i]);
      continue;
    }
    const j = preview.jobs[i - head.length];
    const fresh = j.freshUntil === null ? "" : `${clockTime(j.freshUntil)} (${until(j.freshUntil, now)})`;
    lines.push(
      <Text key={`${i}`} wrap="truncate-end">
        {cell(names[i - head.length], width)} <Styled look={LOOK[j.status]}>{cell(j.status, 8)}</Styled> {cell(j.status === "run" ? String(j.chunks) : "—", 7)}{" "}
        {cell(fresh, FRESH_WIDTH)} <Text dimColor>{j.reason ?? ""}</Text>
      </Text>,
    );
  }
  return <>{lines}</>;
}

/**
 * The ETA, or which jobs have no history to give one: a guess would look like a promise.
 * The estimate is a lower bound (planPreview), hence "or more"; below a second,
 * shortDuration's "0s" would read as "instant".
 */
function eta(preview: PlanPreview): string {
  if (preview.etaMs !== null) return `ETA ${preview.etaMs < 1000 ? "under 1s" : `~${shortDuration(preview.etaMs)} or more`}, from past chunk durations`;
  const missing = preview.noHistory ?? [];
  if (missing.length === 0) return "no ETA: nothing to run";
  return `no ETA: no history for ${missing.length <= 3 ? missing.join(", ") : `${missing.slice(0, 3).join(", ")} and ${missing.length - 3} more`}`;
}
