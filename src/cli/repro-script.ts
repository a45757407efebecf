import type { Kwargs, WorkId } from "../config/types.js";
import { shellWord } from "../json.js";

/** Everything a repro script needs to call one chunk's run() as stau did. */
export interface ReproInput {
  readonly job: string;
  /** Absolute path of the job file. */
  readonly file: string;
  /** The project root: jobs run with it as their working directory. */
  readonly root: string;
  /** Absolute path of stau's own loader module (jobs/import-module.js), so the job loads as in a worker. */
  readonly loader: string;
  readonly runId: string;
  readonly chunkId: string;
  readonly attempt: number;
  readonly workIds: readonly WorkId[];
  readonly kwargs: Kwargs;
  /** How the recorded attempt ended, for the header ("failed: boom"). */
  readonly recorded: string;
}

/**
 * The text of a standalone ES module that re-runs one chunk attempt: it loads the job
 * through stau's loader (tsx, source maps on) and calls its run() with the recorded
 * work IDs, kwargs, attempt and ids, a log and progress() that print, and a signal
 * that Ctrl+C aborts. No worker thread, no store, no timeout: made to be stepped
 * through with `node --inspect-brk`. Exits 1 with the job's error, 0 when it succeeds.
 */
export function reproScript(input: ReproInput): string {
  // One field a line, each value compact JSON: easy to edit (fewer work IDs, other kwargs) before a run.
  const fields = { workIds: input.workIds, kwargs: input.kwargs, attempt: input.attempt, runId: input.runId, chunkId: input.chunkId };
  const chunk = `{\n${Object.entries(fields).map(([name, value]) => `  ${name}: ${JSON.stringify(value)},`).join("\n")}\n}`;
  return `// Re-runs chunk ${input.chunkId} of job ${input.job}, attempt ${input.attempt}, as stau ran it.
// Recorded: ${input.recorded.replace(/\n/g, " ")}
// Written by \`stau repro\`; debug with: node --inspect-brk <this file>
import { pathToFileURL } from "node:url";

const { importModule } = await import(pathToFileURL(${JSON.stringify(input.loader)}).href);

// Jobs run with the project root as their working directory.
process.chdir(${JSON.stringify(input.root)});

const chunk = ${chunk};

const job = (await importModule(${JSON.stringify(input.file)})).default;
if (typeof job?.run !== "function") {
  console.error(${JSON.stringify(`${input.file} has no run() to call (a job with a command runs as a program)`)});
  process.exit(2);
}

// A live signal: the first Ctrl+C aborts it, as a cancel would; a second one exits.
const controller = new AbortController();
process.once("SIGINT", () => {
  console.error("[repro] Ctrl+C: aborting the chunk's signal (again to exit)");
  controller.abort(new Error("cancelled (Ctrl+C in repro)"));
  process.once("SIGINT", () => process.exit(130));
});

console.error(\`[repro] \${chunk.chunkId} attempt \${chunk.attempt}: \${chunk.workIds.length} work ID(s), kwargs \${JSON.stringify(chunk.kwargs)}\`);
const started = performance.now();
try {
  await job.run({
    ...chunk,
    log: (...args) => console.log(...args),
    progress: (done, total) => console.error(\`[repro] progress \${done}/\${total}\`),
    signal: controller.signal,
  });
  console.error(\`[repro] done in \${Math.round(performance.now() - started)}ms\`);
  process.exit(0);
} catch (error) {
  console.error(\`[repro] failed after \${Math.round(performance.now() - started)}ms:\`);
  console.error(error);
  process.exit(1);
}
`;
}

/** What a program chunk's repro script needs: the command stau ran, and the protocol's variables it ran with. */
export interface ProgramReproInput {
  readonly job: string;
  readonly chunkId: string;
  readonly attempt: number;
  readonly root: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly recorded: string;
}

/**
 * A bash script that re-runs one attempt of a program job (README "Jobs in any
 * language"): from the project root, with the STAU_* variables it had, output to the
 * terminal. Its last line is the command: put a debugger in front of it (`python3 -m
 * pdb`, `bash -x`) to step through.
 */
export function programReproScript(input: ProgramReproInput): string {
  const exports = Object.entries(input.env).map(([name, value]) => `export ${name}=${shellWord(value)}`);
  return `#!/usr/bin/env bash
# Re-runs chunk ${input.chunkId} of job ${input.job}, attempt ${input.attempt}, as stau ran it.
# Recorded: ${input.recorded.replace(/\n/g, " ")}
# Written by \`stau repro\`. To debug, put a debugger in front of the last line (python3 -m pdb, bash -x).
set -e
cd ${shellWord(input.root)}
${exports.join("\n")}
export PYTHONUNBUFFERED="\${PYTHONUNBUFFERED:-1}"
exec ${input.argv.map(shellWord).join(" ")}
`;
}
