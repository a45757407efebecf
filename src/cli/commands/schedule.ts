import { formatDuration, parseDuration } from "../../config/duration.js";
import { formatProblem } from "../../config/problem.js";
import { displayPath } from "../../config/project.js";
import type { ScheduleEntrySpec } from "../../config/spec.js";
import { UsageError } from "../../errors.js";
import { loadRegistry } from "../../jobs/load.js";
import { missedTick, nextFire, SIMULATE_LIMIT, simulate, tickSource, type ScheduleMark } from "../../schedule/ticks.js";
import { paint, printJson } from "../output.js";
import { currentProject, readStore, type RuntimeFlags } from "../runtime.js";

export interface ScheduleFlags extends RuntimeFlags {
  /** A duration (`7d`, `12h`): list every fire in that window from now. */
  simulate?: string;
  json?: boolean;
}

/** The zone an entry's cron is read in: its own, else the machine's (what croner uses then). */
const zoneOf = (entry: ScheduleEntrySpec) => entry.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * An instant as wall-clock time in a zone, with the offset in force then
 * ("2026-03-29 03:00:00 GMT+2"), so both passes of a repeated hour can be told apart.
 */
export function localTime(at: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "shortOffset",
  }).formatToParts(new Date(at));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}:${part("second")} ${part("timeZoneName")}`;
}

const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());

function entryJson(entry: ScheduleEntrySpec, mark: ScheduleMark | undefined, now: number) {
  const ticks = tickSource(entry);
  const next = nextFire(entry, mark, now, ticks);
  const missed = entry.catchUp ? missedTick(ticks, mark, now) : null;
  return {
    id: entry.id,
    job: entry.job,
    cron: entry.cron,
    everyMs: entry.everyMs,
    onFiles: entry.onFiles,
    /** An onFiles entry: the files its last run was for. */
    lastFiles: mark?.lastFiles ?? [],
    timezone: entry.timezone,
    enabled: entry.enabled,
    catchUp: entry.catchUp,
    next: iso(next),
    nextLocal: next === null ? null : localTime(next, zoneOf(entry)),
    /** The missed tick a start now would catch up on, or null. */
    catchUpFor: iso(missed),
    lastTickAt: iso(mark?.lastTickAt ?? null),
    lastSkip: mark?.lastSkip ? { tickAt: iso(mark.lastSkip.tickAt), reason: mark.lastSkip.reason } : null,
  };
}

/**
 * `stau schedule [--simulate <duration>] [--json]`: every entry with its next fire, its
 * last tick and last skip; with --simulate, every fire in the window from now as if
 * stau started now (catch-ups included), in each entry's timezone. Read-only: works
 * beside a running instance. Exit 2 when the schedule file has problems (its good entries
 * are listed all the same).
 */
export async function scheduleCommand(flags: ScheduleFlags): Promise<number> {
  let windowMs: number | null = null;
  if (flags.simulate !== undefined) {
    windowMs = parseDuration(flags.simulate) ?? null;
    if (windowMs === null) throw new UsageError(`--simulate expects a duration, received ${JSON.stringify(flags.simulate)}`, "for example --simulate 7d or --simulate 12h");
  }
  const paths = currentProject(flags);
  const registry = await loadRegistry(paths);
  // The good entries are listed (they are what stau fires) and the bad ones reported;
  // a schedule file with problems still exits 2.
  const { entries, problems } = registry.schedule;
  for (const problem of problems) process.stderr.write(`${paint("red", "error:", process.stderr)} ${formatProblem(problem)}\n`);
  const exitCode = problems.length ? 2 : 0;
  const marks = await readStore(flags, (store) => store.scheduleMarks());
  const now = Date.now();
  const rows = entries.map((entry) => entryJson(entry, marks.get(entry.id), now));
  // One more than shown, to know whether the window holds more than the limit.
  const fires = windowMs === null ? null : simulate(entries, marks, now, now + windowMs, SIMULATE_LIMIT + 1);
  const truncated = fires !== null && fires.length > SIMULATE_LIMIT;
  const shown = fires?.slice(0, SIMULATE_LIMIT) ?? null;

  if (flags.json) {
    const byId = new Map(entries.map((e) => [e.id, e]));
    const simulation = shown && {
      from: iso(now),
      until: iso(now + windowMs!),
      truncated,
      fires: shown.map((f) => ({ entryId: f.entryId, job: f.job, at: iso(f.at), local: localTime(f.at, zoneOf(byId.get(f.entryId)!)), tickAt: iso(f.tickAt), catchUp: f.catchUp })),
    };
    printJson(simulation ? { entries: rows, simulation } : { entries: rows });
    return exitCode;
  }

  const out = process.stdout;
  if (!paths.scheduleFile) {
    out.write("no schedule: create stau.schedule.ts with defineSchedule([...]) to run jobs on a timer\n");
    return exitCode;
  }
  out.write(`${displayPath(paths, paths.scheduleFile)}: ${entries.length} entr${entries.length === 1 ? "y" : "ies"}\n`);
  entries.forEach((entry, index) => {
    const row = rows[index]!;
    const when = entry.onFiles !== null ? `on files ${entry.onFiles}` : entry.cron !== null ? `cron ${entry.cron}` : `every ${formatDuration(entry.everyMs!)}`;
    const zone = entry.timezone ?? `${zoneOf(entry)} (machine)`;
    const flagsText = [!entry.enabled && "disabled", !entry.catchUp && "no catch-up", registry.broken.has(entry.job) && "job has errors: ticks are skipped"].filter(Boolean).join(", ");
    out.write(`\n${paint("bold", entry.id, out)} → ${entry.job}   ${when}   ${zone}${flagsText ? `   ${paint("yellow", flagsText, out)}` : ""}\n`);
    const waits = entry.onFiles !== null ? "when a matching file appears or changes (each content once)" : "never";
    const next = row.next === null ? paint("dim", entry.enabled ? waits : "disabled", out) : `${row.nextLocal}   ${row.next}`;
    out.write(`    next  ${next}\n`);
    if (row.catchUpFor) out.write(`    due   ${paint("cyan", `on start: a catch-up for the missed tick ${localTime(Date.parse(row.catchUpFor), zoneOf(entry))}`, out)}\n`);
    const last = marks.get(entry.id);
    out.write(`    last  ${last?.lastTickAt != null ? `${localTime(last.lastTickAt, zoneOf(entry))}   ${row.lastTickAt}` : paint("dim", "never", out)}\n`);
    if (last?.lastFiles?.length) out.write(`    for   ${last.lastFiles.join(", ")}\n`);
    if (last?.lastSkip) out.write(`    skip  ${localTime(last.lastSkip.tickAt, zoneOf(entry))}   ${paint("yellow", last.lastSkip.reason, out)}\n`);
  });

  if (shown && windowMs !== null) {
    const byId = new Map(entries.map((e) => [e.id, e]));
    out.write(`\nif stau started now, ${shown.length}${truncated ? "+" : ""} fire${shown.length === 1 ? "" : "s"} in the next ${formatDuration(windowMs)}${truncated ? ` (only the first ${SIMULATE_LIMIT} listed)` : ""}:\n`);
    for (const fire of shown) {
      const entry = byId.get(fire.entryId)!;
      const note = fire.catchUp ? `   ${paint("cyan", `catch-up for ${localTime(fire.tickAt, zoneOf(entry))}`, out)}` : "";
      out.write(`  ${localTime(fire.at, zoneOf(entry))}   ${iso(fire.at)}   ${fire.entryId} → ${fire.job}${note}\n`);
    }
  }
  return exitCode;
}
