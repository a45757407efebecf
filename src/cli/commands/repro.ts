import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { displayPath } from "../../config/project.js";
import { UsageError } from "../../errors.js";
import { discoverJobs } from "../../jobs/discover.js";
import { runIdOfChunk } from "../../store/records.js";
import { parsePositiveInt } from "../args.js";
import { reproScript } from "../repro-script.js";
import { paint, warnSkipped } from "../output.js";
import { currentProject, readStore, type RuntimeFlags } from "../runtime.js";

export interface ReproFlags extends RuntimeFlags {
  attempt?: string;
  out?: string;
}

/**
 * `stau repro <chunk>`: writes a script that re-runs one chunk of history with its
 * recorded work IDs and kwargs (README "Re-running one chunk"), and says how to debug it. Runs
 * nothing itself and works beside a running instance, on either store.
 */
export async function reproCommand(chunkId: string, flags: ReproFlags): Promise<number> {
  const paths = currentProject(flags);
  const archived = await readStore(flags, async (store) => {
    const run = await store.getRun(runIdOfChunk(chunkId));
    warnSkipped(store);
    return run;
  });
  const chunk = archived?.chunks.find((c) => c.id === chunkId);
  if (!archived || !chunk) {
    throw new UsageError(`no chunk ${JSON.stringify(chunkId)} in this store's history`, "a chunk id is <run>.<job>.<n>: `stau show <run>` lists a run's chunks, `stau runs` the runs");
  }
  const made = Math.max(1, chunk.attempts);
  const attempt = flags.attempt === undefined ? made : parsePositiveInt("--attempt", flags.attempt);
  if (attempt > made) throw new UsageError(`--attempt ${attempt}: chunk ${chunkId} made ${chunk.attempts} attempt${chunk.attempts === 1 ? "" : "s"}`, `give --attempt 1 to ${made}`);
  const file = discoverJobs(paths.jobsDir, (f) => displayPath(paths, f)).files.find((f) => f.name === chunk.job)?.file;
  if (file === undefined) throw new UsageError(`job ${chunk.job} of chunk ${chunkId} has no file in ${displayPath(paths, paths.jobsDir)} now`, "restore the job file (`stau show` names the run's git commit)");
  if (!/\.(ts|mts|js|mjs)$/.test(file)) throw new UsageError(`${displayPath(paths, file)} is a program, not a TypeScript or JavaScript job: stau repro writes scripts that call run()`, "run it yourself with the STAU_* variables of the README (\"Jobs in any language\"), taking work IDs and kwargs from `stau show <run>`");

  const script = reproScript({
    job: chunk.job,
    file,
    root: paths.root,
    loader: fileURLToPath(new URL("../../jobs/import-module.js", import.meta.url)),
    runId: archived.run.id,
    chunkId,
    attempt,
    workIds: chunk.workIds,
    kwargs: chunk.kwargs,
    recorded: chunk.error ? `${chunk.state} (${chunk.error.kind}): ${chunk.error.message}` : chunk.state,
  });
  const target = flags.out ? resolve(flags.out) : join(paths.dataDir, "repro", `${chunkId.replace(/[^A-Za-z0-9_.~-]/g, "_")}.${attempt}.mjs`);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, script);
  const out = process.stdout;
  // Absolute paths: stau runs from the project root, which need not be where the user is.
  out.write(`${target}\n`);
  out.write(`${paint("dim", `re-runs ${chunkId} (job ${chunk.job}, attempt ${attempt} of ${chunk.attempts}, ${chunk.workIds.length} work ID${chunk.workIds.length === 1 ? "" : "s"}); recorded ${chunk.state}`, out)}\n`);
  out.write(`run it:   node ${target}\ndebug it: node --inspect-brk ${target}\n`);
  return 0;
}
