import { spawn, type ChildProcess } from "node:child_process";
import { workerFile } from "../worker-file.js";

/**
 * Ends the programs of a stau that died without ending them (`kill -9`, an OOM kill, a
 * crash), so no program outlives its chunk even then.
 *
 * Why a guardian process: each program runs in a process group of its own (process.ts),
 * which lets stau end it with everything it started, but a process group does not end
 * when its parent dies. Linux's parent-death signal (prctl PR_SET_PDEATHSIG) reaches only
 * the direct child, not its children, and a child subreaper (PR_SET_CHILD_SUBREAPER)
 * would have to be stau itself, which is the process that died; Node offers neither,
 * and macOS has neither. So one small process per pool holds a pipe from stau and is
 * told each program's group as it starts and ends; the kernel closes that pipe whatever
 * way stau dies, and the guardian then ends the groups still running. It costs one
 * process per stau (started with the first program) and a short write per program.
 */
export class Guardian {
  private child: ChildProcess | null = null;
  private readonly ended: string[] = [];

  constructor(private readonly graceMs: number) {}

  watch(pgid: number): void {
    this.child ??= this.start();
    this.child.stdin!.write(`+${pgid}\n`);
  }

  /** Ended groups are said in one write per tick: a late word costs nothing, a write per program does. */
  unwatch(pgid: number): void {
    if (!this.child) return;
    if (this.ended.length === 0) setImmediate(() => this.child?.stdin!.write(this.ended.splice(0).join("")));
    this.ended.push(`-${pgid}\n`);
  }

  private start(): ChildProcess {
    const child = spawn(process.execPath, [workerFile("./guardian-main.js", import.meta.url), String(this.graceMs)], {
      // Its own session: a terminal's Ctrl+C is stau's to handle, not the guardian's.
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    });
    // Neither keeps stau running: the guardian is there for when stau is gone.
    child.unref();
    (child.stdin as unknown as { unref(): void }).unref();
    child.stdin!.on("error", () => {}); // the guardian died first: nothing to tell it any more
    child.on("error", () => {});
    return child;
  }

  /** stau is done with its programs: the guardian goes (it ends any group still listed). */
  close(): void {
    this.child?.stdin!.end();
    this.child = null;
  }
}
