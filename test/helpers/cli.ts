import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect } from "vitest";
import { tempProject, type CliResult, type TempProject } from "./project.js";

/** Light on the machine: every executing command gets two worker threads. */
export const WORKERS = ["--workers", "2"];

/** A factory of temp projects that are all removed after the current file's tests. */
export function projectFactory(): (files?: Record<string, string>) => TempProject {
  const made: TempProject[] = [];
  afterAll(() => {
    for (const project of made) project.remove();
  });
  return (files = {}) => {
    const project = tempProject(files);
    made.push(project);
    return project;
  };
}

/** Output for assertion messages. */
export function show(result: CliResult): string {
  return `exit ${result.code} signal ${result.signal}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** No stack trace lines ("    at fn (file:1:2)") in a user-facing error. */
export function expectNoStackTrace(result: CliResult): void {
  expect(result.stderr, show(result)).not.toMatch(/^\s+at .+/m);
  expect(result.stdout, show(result)).not.toMatch(/^\s+at .+/m);
}

/** The files in a directory (empty when it does not exist). */
export function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

export function readText(project: TempProject, path: string): string {
  return readFileSync(join(project.dir, path), "utf8");
}

/** A chunk of `stau run --json` output, by job (exactly one expected). */
export function chunkOf(result: { chunks: any[] }, job: string): any {
  const chunks = result.chunks.filter((c) => c.job === job);
  expect(chunks, `chunks of ${job} in ${JSON.stringify(result.chunks)}`).toHaveLength(1);
  return chunks[0];
}

/** Polls until `check` holds; fails the test (instead of hanging) after `ms`. */
export async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
