import { execFile } from "node:child_process";

/** The commit of the git checkout holding `dir`, or null when it is not one (or git is missing). */
export function gitCommit(dir: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("git", ["rev-parse", "HEAD"], { cwd: dir, timeout: 5_000 }, (error, stdout) => {
      resolve(error ? null : stdout.trim() || null);
    });
  });
}
