import { spawn } from "node:child_process";
import type { NotifyRuleSpec } from "../config/project-config.js";
import { errorMessage } from "../errors.js";

// Getting one notification to where a rule sends it: a webhook POST or a command with the
// JSON on stdin, each try bounded by the rule's timeout, failed tries retried with backoff.
// Deliveries run beside the engine and never hold it up: a slow or dead receiver costs a
// warning, not a chunk's time.

/** Deliveries under way at once; more wait their turn. */
const IN_FLIGHT = 4;
/** Deliveries waiting beyond this are dropped (said once per drop): a receiver that is down must not fill memory. */
const QUEUE_LIMIT = 1_000;
/** The first retry's wait, doubled for each further one. */
const FIRST_BACKOFF_MS = 1_000;

export interface Delivery {
  readonly rule: NotifyRuleSpec;
  /** The event, as the JSON body the receiver gets. */
  readonly body: Record<string, unknown> & { readonly event: string };
}

export interface Deliverer {
  send(delivery: Delivery): void;
  /** Resolves when every queued delivery ended, or after `ms`, whichever is first; later ones are dropped. */
  close(ms: number): Promise<void>;
}

export function deliverer(options: { cwd: string; warn: (message: string) => void }): Deliverer {
  const queue: Delivery[] = [];
  const running = new Set<Promise<void>>();
  const stop = new AbortController();
  const next = () => {
    while (running.size < IN_FLIGHT && queue.length > 0 && !stop.signal.aborted) {
      const task = withRetries(queue.shift()!, options, stop.signal).finally(() => {
        running.delete(task);
        next();
      });
      running.add(task);
    }
  };
  return {
    send(delivery) {
      if (stop.signal.aborted) return;
      if (queue.length >= QUEUE_LIMIT) {
        options.warn(`notification ${delivery.body.event} dropped: ${QUEUE_LIMIT} notifications are waiting for their receivers already`);
        return;
      }
      queue.push(delivery);
      next();
    },
    async close(ms) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
      const drained = (async () => {
        while (running.size > 0) await Promise.all([...running]);
      })();
      await Promise.race([drained, late]);
      clearTimeout(timer);
      stop.abort();
      queue.length = 0;
    },
  };
}

async function withRetries(delivery: Delivery, options: { cwd: string; warn: (message: string) => void }, stopped: AbortSignal): Promise<void> {
  const { rule } = delivery;
  const json = JSON.stringify(delivery.body);
  let last: unknown;
  for (let attempt = 0; attempt <= rule.retries && !stopped.aborted; attempt++) {
    if (attempt > 0) await wait(FIRST_BACKOFF_MS * 2 ** (attempt - 1), stopped);
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(rule.timeoutMs), stopped]);
      if ("webhook" in rule.target) await post(rule.target.webhook, rule.target.headers, json, signal);
      else await run(rule.target.command, json, options.cwd, signal);
      return;
    } catch (error) {
      last = error;
    }
  }
  options.warn(`notification ${delivery.body.event} to ${receiver(rule)} failed after ${rule.retries + 1} tries: ${errorMessage(last)}`);
}

async function post(url: string, headers: Readonly<Record<string, string>>, body: string, signal: AbortSignal): Promise<void> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, signal });
  // The body is not needed; reading it lets the connection go back to the pool.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
}

function run(command: string | readonly string[], stdin: string, cwd: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = typeof command === "string" ? spawn(command, { cwd, shell: true, signal }) : spawn(command[0]!, command.slice(1), { cwd, signal });
    let stderr = "";
    child.stderr.on("data", (data: Buffer) => (stderr = (stderr + data.toString()).slice(-2_000)));
    child.stdout.resume();
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
    child.on("error", (error) => reject(signal.aborted ? new Error(`timed out (${error.message})`) : error));
    child.on("close", (code, sig) => {
      if (code === 0) resolve();
      else reject(new Error(`${sig ? `killed by ${sig}` : `exited ${code}`}${stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" / ")}` : ""}`));
    });
  });
}

/** Where a rule sends, for messages: a webhook by its origin only (its path is often the secret). */
function receiver(rule: NotifyRuleSpec): string {
  if ("webhook" in rule.target) {
    try {
      return `webhook ${new URL(rule.target.webhook).origin}`;
    } catch {
      return "webhook";
    }
  }
  const command = rule.target.command;
  return `command ${typeof command === "string" ? command : command.join(" ")}`;
}

function wait(ms: number, stopped: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    stopped.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}
