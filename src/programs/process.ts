import { spawn } from "node:child_process";

/** How a program's process ended. */
export type ProcessEnd =
  | { readonly started: true; readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly leftovers: boolean }
  /** It could not be started at all (the interpreter is missing, not executable). Plain data, to cross threads. */
  | { readonly started: false; readonly error: { readonly code?: string; readonly message: string } };

export interface ProgramProcess {
  /** Ends the program and everything it started: SIGTERM to its process group, SIGKILL past `graceMs`. */
  stop(graceMs: number): void;
  readonly ended: Promise<ProcessEnd>;
  /** Its process group (its pid), once it started. */
  readonly pgid: number | undefined;
}

export interface ProcessOptions {
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** Whole lines as they come (a line cut by a pipe read waits for its end). */
  readonly onLines: (stream: "stdout" | "stderr", lines: string[]) => void;
}

/** After the program exits, how long processes it left get for SIGTERM before SIGKILL. */
const LEFTOVER_GRACE_MS = 1_000;
/** After everything of the group is gone, how long its pipes may stay open (held by a process that left the group). */
const PIPE_GRACE_MS = 1_000;

/**
 * Starts one program in a process group of its own, so that one signal to the group
 * reaches everything it started (a shell's children, a Python subprocess, their
 * children) and nothing else, and so that Ctrl+C on stau's terminal reaches only stau,
 * which then stops programs as a drain says. This runs in the launcher process
 * (launcher.ts), which ends the groups should stau die without doing so. Output goes only to `onLines`: stdin is
 * /dev/null and nothing is inherited, so no program writes to stau's terminal or event
 * stream. When the program exits, whatever it left running in its group is ended too:
 * nothing outlives its chunk.
 */
export function startProcess(argv: readonly string[], options: ProcessOptions): ProgramProcess {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const pgid = child.pid;
  let killTimer: NodeJS.Timeout | null = null;
  const signalGroup = (signal: NodeJS.Signals | 0) => {
    if (pgid === undefined) return false;
    try {
      process.kill(-pgid, signal);
      return true;
    } catch {
      return false; // ESRCH: nothing of the group is left
    }
  };
  const endGroup = (graceMs: number) => {
    if (killTimer || !signalGroup("SIGTERM")) return;
    killTimer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
  };
  for (const stream of ["stdout", "stderr"] as const) splitLines(child[stream], (lines) => options.onLines(stream, lines));

  const closed = new Promise<void>((done) => child.once("close", () => done()));
  const ended = new Promise<ProcessEnd>((resolve) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      resolve({ started: false, error: { code: error.code, message: error.message } });
    });
    child.once("exit", (code, signal) => {
      // Signal 0 only asks whether any process of the group is left (mostly none is).
      const leftovers = signalGroup(0);
      if (leftovers) endGroup(LEFTOVER_GRACE_MS);
      void (leftovers ? groupGone(signalGroup) : Promise.resolve()).then(() => {
        if (killTimer) clearTimeout(killTimer);
        const late = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
        }, PIPE_GRACE_MS);
        void closed.then(() => {
          clearTimeout(late);
          resolve({ started: true, code, signal, leftovers });
        });
      });
    });
  });
  return { stop: endGroup, ended, pgid };
}

/** Longest to wait for the group to be gone: killed processes that nobody reaps (a container whose PID 1 does not) stay as zombies. */
const GROUP_GONE_MAX_MS = 5_000;

/** Resolves once no process of the group is left (at once in the common case). */
async function groupGone(signalGroup: (signal: 0) => boolean): Promise<void> {
  const deadline = Date.now() + GROUP_GONE_MAX_MS;
  for (let wait = 1; signalGroup(0) && Date.now() < deadline; wait = Math.min(wait * 2, 50)) {
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Calls `onLines` with each read's complete lines; a last line without a newline comes at the end. */
function splitLines(stream: NodeJS.ReadableStream, onLines: (lines: string[]) => void): void {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (data: string) => {
    const lines = (rest + data).split("\n");
    rest = lines.pop()!;
    if (lines.length > 0) onLines(lines.map((line) => line.replace(/\r$/, "")));
  });
  stream.on("end", () => {
    if (rest) onLines([rest.replace(/\r$/, "")]);
    rest = "";
  });
}
