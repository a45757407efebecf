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
  // --no-optional-locks: asking must not rewrite the index (a change GitWatch would see).
  const status = await git(dir, ["--no-optional-locks", "status", "--porcelain", "--untracked-files=normal", "--", "."]);
  return { commit, dirty: status === null ? null : status.trim() !== "" };
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
