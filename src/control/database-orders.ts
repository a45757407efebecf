import { StauError, errorMessage } from "../errors.js";
import type { OrderChannel } from "./orders.js";
import { controlResponse, controlResult, parseControlRequest, type ControlRequest, type ControlResponse } from "./protocol.js";

/** A table of orders in a shared database, each taken once by one orchestrator. */
export interface CommandQueue {
  readonly location: string;
  submit(request: ControlRequest): Promise<number>;
  /** Open orders, oldest first, now taken by `taker`. */
  take(taker: string): Promise<{ id: number; request: ControlRequest }[]>;
  answer(id: number, response: ControlResponse): Promise<void>;
  /** Takes back an order nobody took yet; false if an orchestrator took it meanwhile. */
  withdraw(id: number): Promise<boolean>;
  answerOf(id: number): Promise<{ taken: boolean; response: ControlResponse | null } | null>;
  /** Whether any instance heartbeats (one of them may take the order). */
  anyoneAlive(): Promise<boolean>;
  listen(channel: "commands" | "replies", listener: (payload: string) => void): Promise<() => void>;
}

/** How long an order waits when no instance is heartbeating (one may be starting). */
const NOBODY_MS = 3_000;
/** How often the orchestrator looks for orders without being notified. */
const POLL_MS = 500;

/** Orders through a shared database: any machine submits, the orchestrating instance answers. */
export function databaseOrders(commands: CommandQueue): OrderChannel {
  return {
    address: null,
    call: (request, timeoutMs) => call(commands, request, timeoutMs),
    async serve(handle, { by, warn }) {
      let running: Promise<void> | null = null;
      let stopped = false;
      const takeAll = () => {
        if (stopped || running) return;
        running = (async () => {
          try {
            for (const { id, request } of await commands.take(by)) {
              // A row of the wrong shape (written by anything with access to the table) is refused, not acted on.
              const response = await (async () => handle(parseControlRequest(request)))().then(
                (result) => controlResponse({ ok: true, result }),
                (error: unknown) => controlResponse({ ok: false, error }),
              );
              await commands.answer(id, response);
            }
          } catch (error) {
            // The next look retries; an order taken but not answered times out at its sender.
            warn(`taking orders failed: ${errorMessage(error)}`);
          } finally {
            running = null;
          }
        })();
      };
      const unlisten = await commands.listen("commands", takeAll);
      const timer = setInterval(takeAll, POLL_MS);
      takeAll();
      return async () => {
        stopped = true;
        clearInterval(timer);
        unlisten();
        await running;
      };
    },
  };
}

async function call<T>(commands: CommandQueue, request: ControlRequest, timeoutMs = 30_000): Promise<T> {
  const id = await commands.submit(request);
  let wake: () => void = () => undefined;
  const stop = await commands.listen("replies", (payload) => payload === String(id) && wake());
  try {
    // With no instance heartbeating, nobody will take the order: say so soon rather than in 30 s.
    if (!(await commands.anyoneAlive())) timeoutMs = Math.min(timeoutMs, NOBODY_MS);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await commands.answerOf(id);
      if (answer?.response) return controlResult<T>(answer.response);
      if (Date.now() > deadline) {
        if (await commands.withdraw(id)) {
          throw new StauError("no_instance", `no stau instance orchestrates on ${commands.location}: nobody took the order within ${timeoutMs / 1000}s, and it was withdrawn`, {
            hint: "start one with `stau start --no-ui` against the same database",
            exitCode: 2,
          });
        }
        if (!answer?.taken) continue; // taken just now: its answer follows
        throw new StauError("control_timeout", `the orchestrating stau instance took the order but did not answer within ${timeoutMs / 1000}s`, { hint: "check its logs; stau runs shows whether it was carried out", exitCode: 1 });
      }
      // A notification or a short poll, whichever comes first.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    stop();
  }
}
