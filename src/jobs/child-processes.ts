import { register } from "node:module";
import { MessageChannel, type MessagePort } from "node:worker_threads";
import type { HooksRequest } from "./child-process-hooks.js";

// The side of child-process-hooks.ts in a thread that imports job code: every such
// thread ends its module-hooks thread's child processes (esbuild) before it ends.

const ANSWER_TIMEOUT_MS = 5_000;

let hooks: MessagePort | null = null;

/** Starts watching the child processes of this thread's module hooks (after the TypeScript loader is registered). */
export function watchChildProcesses(): void {
  if (hooks) return;
  const { port1, port2 } = new MessageChannel();
  register(new URL("./child-process-hooks.js", import.meta.url), { data: { port: port2 }, transferList: [port2] });
  port1.unref();
  hooks = port1;
}

/**
 * Ends the child processes this thread's module hooks started, and waits until they are
 * reaped: call it last before the thread ends. Gives up after a few seconds (a hooks
 * thread that does not answer must not keep the thread from ending): false then.
 */
export function endChildProcesses(): Promise<boolean> {
  return askHooks("end");
}

/** Starts the TypeScript loader's esbuild ahead of the next load, which keeps and then ends it (a spare loading worker). */
export async function startLoaderEsbuild(): Promise<void> {
  await askHooks("warm");
}

/** Resolves true once the hooks thread answers, false if it has not in time. */
function askHooks(request: HooksRequest): Promise<boolean> {
  const port = hooks;
  if (!port) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ANSWER_TIMEOUT_MS);
    port.once("message", () => {
      clearTimeout(timer);
      resolve(true);
    });
    port.postMessage(request);
  });
}
