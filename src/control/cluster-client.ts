import { StauError } from "../errors.js";
import type { PgStore } from "../store/pg/pg-store.js";
import { controlResult, type ControlRequest, type ControlResponse } from "./protocol.js";

/** How long an order waits when no copy is heartbeating (one may be starting). */
const NOBODY_MS = 3_000;

/**
 * Sends one order to whichever copy orchestrates on a shared store (through the
 * commands table) and returns its answer, as callInstance does over a socket.
 */
export async function callOrchestrator<T = unknown>(store: PgStore, request: ControlRequest, timeoutMs = 30_000): Promise<T> {
  const id = await store.submitCommand(request);
  let wake: () => void = () => undefined;
  const stop = await store.listen(store.channel("replies"), (payload) => payload === String(id) && wake());
  try {
    // With no copy heartbeating, nobody will take the order: say so soon rather than in 30 s.
    const alive = (await store.copies()).some((c) => !c.stopped && c.silentFor < 10);
    if (!alive) timeoutMs = Math.min(timeoutMs, NOBODY_MS);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await store.commandAnswer(id);
      if (answer?.response) return controlResult<T>(answer.response as ControlResponse);
      if (Date.now() > deadline) {
        if (await store.withdrawCommand(id)) {
          throw new StauError("no_instance", `no stau copy orchestrates on ${store.location}: nobody took the order within ${timeoutMs / 1000}s, and it was withdrawn`, {
            hint: "start one with `stau start --no-ui` against the same database",
            exitCode: 2,
          });
        }
        if (!answer?.taken) continue; // taken just now: its answer follows
        throw new StauError("control_timeout", `the orchestrating stau copy took the order but did not answer within ${timeoutMs / 1000}s`, { hint: "check its logs; stau runs shows whether it was carried out", exitCode: 1 });
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
