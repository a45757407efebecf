import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GitWatch } from "../../src/engine/git-watch.js";
import type { GitState } from "../../src/engine/git.js";
import { projectFactory } from "../helpers/cli.js";

// The git state a run records, on a real checkout with real git: answered from what is
// known while nothing changed, asked again as soon as jobs/ or the checkout changes.

const project = projectFactory();
const watches: GitWatch[] = [];
const realPath = process.env.PATH;
afterEach(async () => {
  process.env.PATH = realPath;
  for (const watch of watches.splice(0)) await watch.close();
});

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: dir, encoding: "utf8" }).trim();
}

/** A watch on jobs/ of a project, warmed up: watching, with a state asked for since. */
async function warmWatch(dir: string): Promise<{ watch: GitWatch; state: GitState }> {
  const watch = new GitWatch(join(dir, "jobs"));
  watches.push(watch);
  await watch.read();
  await watch.read();
  await watch.watching();
  return { watch, state: await watch.read() };
}

/** Reads until the state is `expected` (a change reaches the watch a moment after it is made). */
async function readUntil(watch: GitWatch, expected: Partial<GitState>): Promise<GitState> {
  const end = Date.now() + 10_000;
  for (;;) {
    const state = await watch.read();
    if (Object.entries(expected).every(([key, value]) => state[key as keyof GitState] === value) || Date.now() > end) return state;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the git state of jobs/, kept current", () => {
  it("answers without asking git while nothing changed, and asks again after a job file changes and after a commit", async () => {
    const p = project({ "jobs/a.ts": "export default {};\n" });
    git(p.dir, "init", "-q");
    git(p.dir, "add", ".");
    git(p.dir, "commit", "-qm", "first");
    const { watch, state } = await warmWatch(p.dir);
    expect(state).toEqual({ commit: git(p.dir, "rev-parse", "HEAD"), dirty: false });
    // No git on the PATH: only a known answer can come back.
    process.env.PATH = "";
    expect(await watch.read()).toEqual(state);
    process.env.PATH = realPath;

    appendFileSync(join(p.dir, "jobs", "a.ts"), "// edited\n");
    expect(await readUntil(watch, { dirty: true })).toEqual({ commit: state.commit, dirty: true });
    git(p.dir, "commit", "-qam", "second");
    const second = git(p.dir, "rev-parse", "HEAD");
    expect(await readUntil(watch, { commit: second })).toEqual({ commit: second, dirty: false });
    // A new file in a subfolder of jobs/ counts too.
    mkdirSync(join(p.dir, "jobs", "lib"));
    writeFileSync(join(p.dir, "jobs", "lib", "helper.ts"), "export const x = 1;\n");
    expect(await readUntil(watch, { dirty: true })).toEqual({ commit: second, dirty: true });
  });

  it("outside a checkout says none, and asks git again once a repository is created in the project folder", async () => {
    const p = project({ "jobs/a.ts": "export default {};\n" });
    const { watch, state } = await warmWatch(p.dir);
    expect(state).toEqual({ commit: null, dirty: null });
    git(p.dir, "init", "-q");
    git(p.dir, "add", ".");
    git(p.dir, "commit", "-qm", "first");
    expect(await readUntil(watch, { dirty: false })).toEqual({ commit: git(p.dir, "rev-parse", "HEAD"), dirty: false });
  });
});
