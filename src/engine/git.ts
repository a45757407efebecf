import { execFile } from "node:child_process";
import type { RunRecord } from "../store/records.js";

/** Which code a run ran: the commit of the checkout holding jobs/, and whether jobs/ differed from it. */
export interface GitState {
  /** null when jobs/ is not in a git checkout (or git is missing). */
  readonly commit: string | null;
  /** Uncommitted changes (untracked files included) under jobs/; null when there is no checkout. */
  readonly dirty: boolean | null;
}

function git(dir: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("git", args, { cwd: dir, timeout: 5_000 }, (error, stdout) => resolve(error ? null : stdout));
  });
}

/** The git state of `dir` now. */
export async function gitState(dir: string): Promise<GitState> {
  const commit = (await git(dir, ["rev-parse", "HEAD"]))?.trim() || null;
  if (commit === null) return { commit: null, dirty: null };
  // Relative to dir: only jobs/ counts, not the data or output the jobs write elsewhere.
  const status = await git(dir, ["status", "--porcelain", "--untracked-files=normal", "--", "."]);
  return { commit, dirty: status === null ? null : status.trim() !== "" };
}

/**
 * gitState of `dir` at each call, except that calls made while a look is under way share
 * it (a burst of triggers runs git once). Never cached beyond that: every run records
 * the code it runs, so a long-running instance sees commits and edits made after it started.
 */
export function gitStateReader(dir: string): () => Promise<GitState> {
  let looking: Promise<GitState> | null = null;
  return () => (looking ??= gitState(dir).finally(() => (looking = null)));
}

/**
 * Why a re-run may not run the code its original ran (its commit moved, or either had
 * uncommitted changes in jobs/), or null when both ran the same commit cleanly or
 * neither is in a checkout.
 */
export function codeDrift(original: RunRecord, rerun: RunRecord): string | null {
  const short = (commit: string | null) => (commit === null ? "no commit" : commit.slice(0, 12));
  const reasons: string[] = [];
  if (original.gitCommit !== rerun.gitCommit) reasons.push(`run ${original.id} ran commit ${short(original.gitCommit)}, jobs/ is now at ${short(rerun.gitCommit)}`);
  if (original.gitDirty) reasons.push(`run ${original.id} ran with uncommitted changes in jobs/, which no commit holds`);
  if (rerun.gitDirty) reasons.push("jobs/ has uncommitted changes now");
  return reasons.length === 0 ? null : `the code differs from the original run's: ${reasons.join("; ")}`;
}
