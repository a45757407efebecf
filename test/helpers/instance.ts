import type { ChildProcess } from "node:child_process";
import { afterEach } from "vitest";
import { startStau } from "./project.js";

/** A `stau start --no-ui --log-format json` process and the events it has logged so far. */
export interface RunningStau {
  readonly child: ChildProcess;
  readonly events: any[];
  readonly stderr: () => string;
  /** Resolves with the first logged event matching `match` (past or future). */
  waitFor(match: (event: any) => boolean, what: string, ms?: number): Promise<any>;
  /** Resolves with the exit code once the process has ended. */
  exited(): Promise<number | null>;
}

/** `command` is "start", or "dev" (headless here: the test has no terminal). */
export function startInstance(cwd: string, args: string[] = [], env: Record<string, string> = {}, command: "start" | "dev" = "start"): RunningStau {
  const child = startStau(cwd, [command, "--no-ui", "--log-format", "json", "--workers", "2", ...args], env);
  const events: any[] = [];
  const waiters: { match: (event: any) => boolean; resolve: (event: any) => void }[] = [];
  let stderr = "";
  let partial = "";
  child.stderr!.on("data", (d) => (stderr += d));
  child.stdout!.on("data", (data: Buffer) => {
    const lines = (partial + data.toString()).split("\n");
    partial = lines.pop()!;
    for (const line of lines.filter(Boolean)) {
      const event = JSON.parse(line);
      events.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.match(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    }
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    events,
    stderr: () => stderr,
    waitFor(match, what, ms = 30_000) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`gave up waiting for ${what}\nevents: ${events.map((e) => e.event).join(", ")}\nstderr: ${stderr}`)), ms);
        waiters.push({ match, resolve: (event) => (clearTimeout(timer), resolve(event)) });
      });
    },
    exited: () => exit,
  };
}

/** A list for the instances a test file starts: each is killed (SIGKILL) after its test, and awaited. */
export function instancesKilledAfterEach(): RunningStau[] {
  const running: RunningStau[] = [];
  afterEach(async () => {
    for (const instance of running.splice(0)) {
      instance.child.kill("SIGKILL");
      await instance.exited();
    }
  });
  return running;
}
