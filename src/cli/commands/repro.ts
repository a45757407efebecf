import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { displayPath, isProgramFile, type ProjectPaths } from "../../config/project.js";
import { UsageError } from "../../errors.js";
import { discoverJobs } from "../../jobs/discover.js";
import { runIdOfChunk } from "../../store/records.js";
import { parsePositiveInt } from "../args.js";
import { programReproScript, reproScript } from "../repro-script.js";
import type { ProgramSpec } from "../../config/spec.js";
import { loadRegistry } from "../../jobs/load.js";
import { programEnv } from "../../programs/chunk.js";
import { programArgv } from "../../programs/load.js";
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
  const recorded = chunk.error ? `${chunk.state} (${chunk.error.kind}): ${chunk.error.message}` : chunk.state;
  const program = await programOf(paths, chunk.job, file);
  const target = (ext: string) => (flags.out ? resolve(flags.out) : join(paths.dataDir, "repro", `${chunkId.replace(/[^A-Za-z0-9_.~-]/g, "_")}.${attempt}.${ext}`));
  const out = process.stdout;
  if (program) {
    // A program runs as stau ran it: its command, from the project root, with the protocol's variables.
    const env = programEnv(chunk.job, "run", chunk.kwargs, { runId: archived.run.id, chunkId, attempt, workIds: chunk.workIds, kwargs: chunk.kwargs });
    const script = write(target("sh"), programReproScript({ job: chunk.job, chunkId, attempt, root: paths.root, argv: program.argv, env, recorded }), 0o755);
    out.write(`${script}\n`);
    out.write(`${paint("dim", `re-runs ${chunkId} (program job ${chunk.job}, attempt ${attempt} of ${chunk.attempts}, ${chunk.workIds.length} work ID${chunk.workIds.length === 1 ? "" : "s"}); recorded ${chunk.state}`, out)}\n`);
    out.write(`run it:   bash ${script}\ndebug it: edit its last line (python3 -m pdb …, bash -x …)\n`);
    return 0;
  }

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
    recorded,
  });
  // Absolute paths: stau runs from the project root, which need not be where the user is.
  const written = write(target("mjs"), script);
  out.write(`${written}\n`);
  out.write(`${paint("dim", `re-runs ${chunkId} (job ${chunk.job}, attempt ${attempt} of ${chunk.attempts}, ${chunk.workIds.length} work ID${chunk.workIds.length === 1 ? "" : "s"}); recorded ${chunk.state}`, out)}\n`);
  out.write(`run it:   node ${written}\ndebug it: node --inspect-brk ${written}\n`);
  return 0;
}

function write(file: string, text: string, mode = 0o644): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text, { mode });
  return file;
}

/** How the job's chunks run when it is a program (a program file, or a TypeScript job's `command`); null for run(). */
async function programOf(paths: ProjectPaths, job: string, file: string): Promise<ProgramSpec | null> {
  const spec = (await loadRegistry(paths)).jobs.get(job);
  if (spec) return spec.program ?? null;
  // A job whose config does not load now: a program file still runs as its interpreter runs it.
  return isProgramFile(file) ? { argv: programArgv(file), selectsWork: false } : null;
}
