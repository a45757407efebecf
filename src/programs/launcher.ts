import { spawn, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { workerFile } from "../worker-file.js";
import type { ProcessEnd, ProgramProcess } from "./process.js";

// Programs are started by a small process of stau's, the launcher, not by stau itself.
// Starting a process forks its parent, and fork costs with the parent's memory: 1.3 ms
// from a 50 MB process, 12 ms from 370 MB, 40 ms from 1.1 GB, here, on stau's main
// thread, for every chunk of a program job. The launcher stays small, so each start
// costs what it costs from a shell.
//
// It is also what ends the programs of a stau that died without ending them (kill -9,
// an OOM kill). Each program runs in a process group of its own (process.ts), which
// lets one signal end it with everything it started, but a group does not end when its
// parent dies: Linux's parent-death signal reaches only the direct child, a subreaper
// would have to be stau itself, Node offers neither and macOS has neither. The kernel
// closes the launcher's stdin whatever way stau dies, and the launcher then ends every
// group still running (launcher-main.ts).

export type LauncherRequest =
  | { readonly t: "start"; readonly id: number; readonly argv: readonly string[]; readonly cwd: string; readonly env: Readonly<Record<string, string>> }
  | { readonly t: "stop"; readonly id: number; readonly graceMs: number };

export type LauncherReply =
  | { readonly t: "started"; readonly id: number; readonly pgid: number | null }
  | { readonly t: "lines"; readonly id: number; readonly stream: "stdout" | "stderr"; readonly lines: string[] }
  | { readonly t: "end"; readonly id: number; readonly end: ProcessEnd };

interface Running {
  readonly onLines: (stream: "stdout" | "stderr", lines: string[]) => void;
  readonly resolve: (end: ProcessEnd) => void;
  pgid: number | null;
}

export interface LaunchOptions {
  readonly cwd: string;
  /** Added to the environment the launcher was started with. */
  readonly env: Readonly<Record<string, string>>;
  readonly onLines: (stream: "stdout" | "stderr", lines: string[]) => void;
}

export class Launcher {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly running = new Map<number, Running>();

  /** `env`: what every program starts from; `graceMs`: SIGTERM to SIGKILL when stau is gone. */
  constructor(
    private readonly env: Readonly<Record<string, string>>,
    private readonly graceMs: number,
  ) {}

  start(argv: readonly string[], options: LaunchOptions): ProgramProcess {
    this.child ??= this.launch();
    const id = this.nextId++;
    const entry: Running = { onLines: options.onLines, resolve: () => {}, pgid: null };
    const ended = new Promise<ProcessEnd>((resolve) => Object.assign(entry, { resolve }));
    this.running.set(id, entry);
    this.holdOpen();
    this.send({ t: "start", id, argv, cwd: options.cwd, env: options.env });
    return {
      stop: (graceMs) => this.send({ t: "stop", id, graceMs }),
      ended,
      get pgid() {
        return entry.pgid ?? undefined;
      },
    };
  }

  /** stau is done with its programs: the launcher goes (and ends any still running). */
  close(): void {
    this.child?.stdin!.end();
    this.child = null;
  }

  private send(request: LauncherRequest): void {
    this.child?.stdin!.write(JSON.stringify(request) + "\n");
  }

  /** While a program runs, its answer keeps stau's event loop alive, as the program itself would. */
  private holdOpen(): void {
    const out = this.child?.stdout as Socket | undefined;
    if (this.running.size > 0) out?.ref();
    else out?.unref();
  }

  private launch(): ChildProcess {
    const child = spawn(process.execPath, [workerFile("./launcher-main.js", import.meta.url), String(this.graceMs)], {
      // Its own session: a terminal's Ctrl+C is stau's to handle, not the launcher's.
      detached: true,
      env: { ...this.env },
      stdio: ["pipe", "pipe", "ignore"],
    });
    child.unref();
    (child.stdin as unknown as Socket).unref();
    child.stdin!.on("error", () => {}); // the launcher died first: see "exit" below
    child.on("error", () => {});
    let rest = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (data: string) => {
      const lines = (rest + data).split("\n");
      rest = lines.pop()!;
      for (const line of lines) if (line) this.receive(JSON.parse(line) as LauncherReply);
    });
    child.once("exit", () => this.lost(child));
    return child;
  }

  private receive(reply: LauncherReply): void {
    const entry = this.running.get(reply.id);
    if (!entry) return;
    if (reply.t === "started") entry.pgid = reply.pgid;
    else if (reply.t === "lines") entry.onLines(reply.stream, reply.lines);
    else {
      this.running.delete(reply.id);
      this.holdOpen();
      entry.resolve(reply.end);
    }
  }

  /** The launcher died under running programs (it should not): they are ended from here, and the next start launches a new one. */
  private lost(child: ChildProcess): void {
    if (this.child === child) this.child = null;
    for (const [id, entry] of this.running) {
      if (entry.pgid !== null) {
        try {
          process.kill(-entry.pgid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      this.running.delete(id);
      entry.resolve({ started: false, error: { message: "stau's program launcher stopped unexpectedly" } });
    }
  }
}
