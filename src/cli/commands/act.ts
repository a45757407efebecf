import type { ControlRequest } from "../../control/protocol.js";
import { openOrders } from "../../store/open.js";
import { parseKwargs, parseWorkIds } from "../args.js";
import { paint, printJson, printWarning } from "../output.js";
import { storeConfig, type RuntimeFlags } from "../runtime.js";

// Commands that act on the instance that orchestrates: through the control socket of
// the data directory, or through a shared database. Without one they say so and exit
// 2; `stau run` is the in-process way.

interface ActFlags extends RuntimeFlags {
  json?: boolean;
}

type RunSummary = { run: { id: string; job: string; status: string }; warning?: string };

async function call<T>(flags: ActFlags, request: ControlRequest): Promise<T> {
  const { orders, close } = await openOrders(storeConfig(flags));
  try {
    return await orders.call<T>(request);
  } finally {
    await close();
  }
}

async function act(flags: ActFlags, request: ControlRequest, describe: (result: RunSummary) => string): Promise<number> {
  const result = await call<RunSummary>(flags, request);
  if (flags.json) printJson(result);
  else process.stdout.write(describe(result) + "\n");
  // A re-run of code that changed since: said, not refused (fixing the code is often the point).
  if (result.warning) printWarning(result.warning);
  return 0;
}

export function triggerCommand(job: string, flags: ActFlags & { kwargs?: string; work?: string }): Promise<number> {
  const request: ControlRequest = { cmd: "trigger", job, kwargs: parseKwargs(flags.kwargs), workIds: parseWorkIds(flags.work) };
  return act(flags, request, ({ run }) => `triggered ${run.job}: run ${run.id} (${run.status}); follow it with stau logs ${run.job} -f`);
}

export function retryCommand(run: string, flags: ActFlags): Promise<number> {
  return act(flags, { cmd: "retry", run }, ({ run: r }) => `retrying the failed chunks of run ${r.id} (${r.job})`);
}

export function rerunCommand(run: string, flags: ActFlags): Promise<number> {
  return act(flags, { cmd: "rerun", run }, ({ run: r }) => `re-running ${r.job} as run ${r.id} (same kwargs and work IDs as ${run})`);
}

export function cancelCommand(run: string, flags: ActFlags): Promise<number> {
  return act(flags, { cmd: "cancel", run }, ({ run: r }) => `cancelling run ${r.id} (${r.job}): chunks not started are cancelled, running ones are stopped`);
}

interface Status {
  instance: { pid: number; hostname?: string; dataDir: string; startedAt: string; workers: number; busy: number; draining: boolean };
  /** With a shared store: every instance that heartbeats (or stopped within the hour). */
  copies?: { info: { id: string; pid: number; hostname: string; command: string }; leading: boolean; silentFor: number; stopped: boolean }[];
  runs: { id: string; job: string; status: string; trigger: string; chunks: Record<string, number> }[];
  schedule: { paused: boolean; next: Record<string, string | null> };
}

export async function statusCommand(flags: ActFlags): Promise<number> {
  const status = await call<Status>(flags, { cmd: "status" });
  if (flags.json) {
    printJson(status);
    return 0;
  }
  const { instance, runs, schedule } = status;
  const out = process.stdout;
  out.write(`stau running: pid ${instance.pid}${instance.hostname ? ` on ${instance.hostname}` : ""} since ${instance.startedAt}, ${instance.busy}/${instance.workers} workers busy${instance.draining ? ", draining" : ""}\n`);
  if (status.copies) {
    out.write("\ninstances:\n");
    for (const other of status.copies) {
      const state = other.stopped ? paint("dim", "stopped", out) : other.leading ? paint("green", "orchestrates", out) : other.silentFor > 5 ? paint("red", `silent ${other.silentFor}s`, out) : "works";
      out.write(`  ${other.info.id.padEnd(32)} ${other.info.command.padEnd(6)} ${state}\n`);
    }
  }
  out.write(runs.length ? "\nactive runs:\n" : "\nno active runs\n");
  for (const run of runs) {
    const { done, running, queued, failed } = run.chunks as Record<string, number>;
    out.write(`  ${run.id}  ${paint("cyan", run.status.padEnd(8), out)} ${run.job}  done ${done} running ${running} queued ${queued} failed ${failed}\n`);
  }
  const entries = Object.entries(schedule.next);
  if (entries.length) {
    out.write(`\nschedule${schedule.paused ? " (paused)" : ""}:\n`);
    for (const [id, next] of entries) out.write(`  ${id.padEnd(24)} next ${next ?? "never"}\n`);
  }
  return 0;
}
