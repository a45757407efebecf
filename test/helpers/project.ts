import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The stau repository (its dist/ is what `node_modules/stau` points at). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const STAU_BIN = join(REPO, "bin", "stau.js");
export const FIXTURE_JOBS = join(REPO, "test", "fixtures", "jobs");

export interface TempProject {
  readonly dir: string;
  /** Writes a file relative to the project root. */
  write(path: string, text: string): void;
  /** Copies fixture jobs (by name, without extension) into jobs/. */
  useFixtures(...names: string[]): void;
  remove(): void;
}

/**
 * A throw-away project set up the way a user's is: package.json, jobs/, and
 * node_modules/stau pointing at this repository.
 */
export function tempProject(files: Record<string, string> = {}): TempProject {
  const dir = mkdtempSync(join(tmpdir(), "stau-test-"));
  mkdirSync(join(dir, "jobs"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(REPO, join(dir, "node_modules", "stau"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "test-project", private: true, type: "module" }));
  const project: TempProject = {
    dir,
    write(path, text) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    },
    useFixtures(...names) {
      for (const name of names) cpSync(join(FIXTURE_JOBS, `${name}.ts`), join(dir, "jobs", `${name}.ts`));
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const [path, text] of Object.entries(files)) project.write(path, text);
  return project;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI in `cwd` and collects its output. */
export function stau(cwd: string, args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = startStau(cwd, args, options.env);
  return collect(child, options.timeoutMs ?? 50_000);
}

export function startStau(cwd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [STAU_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
}

export function collect(child: ChildProcess, timeoutMs: number): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`stau did not finish within ${timeoutMs}ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Parses a command's JSON output, with the whole output in the error when it is not JSON. */
export function json<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`expected JSON on stdout (exit ${result.code})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
}
