import { formatDuration } from "../../config/duration.js";
import { parseKwargs, parseWorkIds } from "../args.js";
import { runResultJson } from "../json.js";
import { paint, printJson } from "../output.js";
import { attachLogLines } from "../../headless/log-lines.js";
import { openRuntime, type RuntimeFlags } from "../runtime.js";

export interface RunFlags extends RuntimeFlags {
  kwargs?: string;
  work?: string;
  json?: boolean;
  drainTimeout?: string;
}

/** `stau run <job>`: one run in this process, with its dependencies. Exit 0 done, 1 not. */
export async function runCommand(job: string, flags: RunFlags): Promise<number> {
  const kwargs = parseKwargs(flags.kwargs);
  const workIds = parseWorkIds(flags.work);
  await using runtime = await openRuntime(flags, `run ${job}`);
  const { engine } = runtime;
  // Progress goes to stderr as the same event lines `--no-ui` writes; stdout keeps the result.
  const stopReporting = flags.json ? () => {} : attachLogLines(engine.events, "pretty", process.stderr);
  let interrupted = false;
  let runId: string | undefined;
  const onSignal = () => {
    if (interrupted) process.exit(130); // a second Ctrl+C: stop now
    interrupted = true;
    process.stderr.write("\nstopping: running chunks get 30s to finish (Ctrl+C again to force)…\n");
    void engine.drain(30_000).then(() => (runId ? engine.cancel(runId) : false));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const started = Date.now();
  const run = await engine.trigger({ job, kwargs, workIds, source: "cli" });
  runId = run.id;
  const result = await engine.waitForRun(run.id);
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  stopReporting();
  if (flags.json) {
    printJson(runResultJson(result));
  } else {
    const counts = new Map<string, number>();
    for (const chunk of result.chunks) counts.set(chunk.state, (counts.get(chunk.state) ?? 0) + 1);
    const summary = [...counts].map(([state, n]) => `${n} ${state}`).join(", ") || "no chunks";
    const ok = result.run.status === "done";
    const mark = ok ? paint("green", "✓") : paint("red", "✗");
    process.stdout.write(`${mark} run ${result.run.id} of ${job} ${result.run.status} in ${formatDuration(Date.now() - started)}: ${summary}\n`);
    for (const chunk of result.chunks.filter((c) => c.state === "failed")) {
      process.stdout.write(`  ${chunk.id}: ${chunk.error?.kind}: ${chunk.error?.message.split("\n")[0]}\n    log: stau logs ${chunk.job} --run ${result.run.id}\n`);
    }
  }
  if (interrupted) return 130;
  return result.run.status === "done" ? 0 : 1;
}
