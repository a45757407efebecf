// Module hooks registered (by child-processes.ts) after the TypeScript loader's, so they
// run in the module-hooks thread of a thread that imports job code. The loader's esbuild
// process is a child started from that hooks thread, and only the thread that starts a
// child reaps it: when the thread is ended while esbuild runs, esbuild exits and stays a
// zombie of the stau process for good. So esbuild is stopped, and reaped, here:
// - whenever no file is being loaded (the next file that is not in the loader's cache
//   starts a new one), so a thread ended later (a pool thread after a reload) leaves none;
// - and at once when the thread asks, just before it ends (the loading worker).
// A spare loading worker asks for esbuild ahead ("warm"): started, it stays while the
// spare waits (starting it was ~20 ms of a one-file load here) and stops after the files
// it then loads.
import type { ChildProcess } from "node:child_process";
import { subscribe } from "node:diagnostics_channel";
import { createRequire, type LoadHook } from "node:module";
import type { MessagePort } from "node:worker_threads";

/** What a thread asks its hooks thread (child-processes.ts); each is answered by one message. */
export type HooksRequest = "warm" | "end";

const running = new Set<ChildProcess>();
let loading = 0;
let stopping: Promise<void> | null = null;
/** Started by a "warm" request, esbuild is kept until loads begin. */
let keepWarm = false;

// Node publishes every child process this thread creates on the "child_process" channel
// (before it is started: its pid is not known yet).
function track(message: unknown): void {
  const child = (message as { process: ChildProcess }).process;
  running.add(child);
  child.once("exit", () => running.delete(child));
}

function exited(child: ChildProcess): Promise<void> {
  // One that never started has nothing to reap.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill();
  });
}

interface Esbuild {
  stop(): unknown;
  transform(code: string, options: { loader: "ts" }): Promise<unknown>;
}

/** The esbuild the TypeScript loader uses: stopping it (not only its process) makes its next use start a new one. */
function loaderEsbuild(): Esbuild {
  const require = createRequire(import.meta.url);
  return createRequire(require.resolve("tsx/esm/api"))("esbuild") as Esbuild;
}

/** Starts the loader's esbuild (its first transform does) and keeps it until loads begin. */
async function warm(): Promise<void> {
  keepWarm = true;
  await loaderEsbuild().transform("", { loader: "ts" });
}

function stopChildren(): Promise<void> {
  stopping ??= (async () => {
    if (running.size > 0) loaderEsbuild().stop();
    await Promise.all([...running].map(exited));
  })().finally(() => (stopping = null));
  return stopping;
}

export function initialize({ port }: { port: MessagePort }): void {
  subscribe("child_process", track);
  port.on("message", (request: HooksRequest) => {
    if (request === "warm") void warm().then(() => port.postMessage("warmed"), () => port.postMessage("warmed"));
    else void stopChildren().then(() => port.postMessage("ended"));
  });
  port.unref();
}

export const load: LoadHook = async (url, context, nextLoad) => {
  loading++;
  keepWarm = false;
  try {
    return await nextLoad(url, context);
  } finally {
    // A whole batch of imports keeps one esbuild; it stops when the batch is done.
    if (--loading === 0) setImmediate(() => loading === 0 && !keepWarm && running.size > 0 && void stopChildren());
  }
};
