import { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";

/**
 * Job code that starts a program with its output inherited (`stdio: "inherit"`, fork's
 * default, or fd 1 and 2 named outright) would have it write onto stau's own stdout and
 * stderr, which a worker thread shares with stau: raw lines in the terminal, the console
 * or the `--log-format json` event stream. Every asynchronous start (spawn, exec,
 * execFile and fork all end in ChildProcess#spawn) is made to pipe those streams
 * instead, and what comes through goes to `write`, which is called in the async context
 * of the code that started the program, so it lands in that chunk's log.
 *
 * The synchronous family (spawnSync, execSync, execFileSync) cannot be piped behind the
 * caller's back; the README asks jobs to pass `stdio: "pipe"` to them, or to use a
 * command job.
 */
export function routeInheritedOutput(write: (level: string, text: string) => void): void {
  // Node's own method, which its types leave out: spawn(options) starts the process.
  const proto = ChildProcess.prototype as unknown as { spawn(this: ChildProcess, options: { stdio?: unknown }): unknown };
  const spawn = proto.spawn;
  proto.spawn = function (this: ChildProcess, options) {
    const stdio = stdioArray(options.stdio);
    const routed: { fd: 1 | 2; level: string }[] = [];
    for (const fd of [1, 2] as const) {
      const entry = stdio[fd];
      if (entry === "inherit" || entry === 1 || entry === 2 || entry === process.stdout || entry === process.stderr) {
        stdio[fd] = "pipe";
        routed.push({ fd, level: fd === 1 ? "log" : "error" });
      }
    }
    if (routed.length === 0) return spawn.call(this, options);
    const result = spawn.call(this, { ...options, stdio });
    for (const { fd, level } of routed) {
      const stream = this.stdio[fd] as Readable | null;
      stream?.setEncoding("utf8");
      stream?.on("data", (text: string) => write(level, text.replace(/\n$/, "")));
    }
    return result;
  };
}

/** `stdio` as the array Node makes of it: a string stands for all three streams. */
function stdioArray(stdio: unknown): unknown[] {
  if (Array.isArray(stdio)) return [...stdio];
  if (typeof stdio === "string") return [stdio, stdio, stdio];
  return ["pipe", "pipe", "pipe"];
}
