import type { Action } from "./actions.js";
import type { ConsoleController } from "../console/contract.js";
import type { Effect } from "./state.js";
import { describeOptions } from "./trigger-form.js";
import { chunkLabel } from "./format.js";
import { logLineText } from "./log-view.js";

/** How much of a chunk's log the heatmap's Enter shows: its end, where failures are. */
const CHUNK_LOG_LINES = 500;

// The one place the console calls the controller. Every answer (or failure) comes back
// as an action, so the reducer stays the only thing that changes state.

export interface EffectContext {
  readonly controller: ConsoleController;
  readonly dispatch: (action: Action) => void;
  /** Takes a new snapshot soon (throttled by the store). */
  readonly refresh: () => void;
  /** Ends the console; with an error when stopping stau failed. */
  readonly exit: (error?: unknown) => void;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Runs `call` (sync throws included) and routes its result or error. */
function settle<T>(call: () => T | Promise<T>, ok: (value: T) => void, fail: (error: unknown) => void): void {
  Promise.resolve()
    .then(call)
    .then(ok, fail);
}

/** Performs one effect the reducer asked for. */
export function runEffect(effect: Effect, ctx: EffectContext): void {
  const { controller, dispatch } = ctx;
  const notice = (text: string, level: "info" | "warn" | "error" = "info") => dispatch({ type: "notice", text, level });
  const failed = (what: string) => (error: unknown) => notice(`${what} failed: ${message(error)}`, "error");
  switch (effect.type) {
    case "plan":
      return settle(
        () => (effect.options ? controller.plan(effect.job, effect.options) : controller.plan(effect.job)),
        (preview) => dispatch({ type: "plan", request: effect.request, preview }),
        (error) => dispatch({ type: "plan", request: effect.request, preview: null, error: message(error) }),
      );
    case "trigger":
      return settle(
        () => (effect.options ? controller.trigger(effect.job, effect.options) : controller.trigger(effect.job)),
        (runId) => notice(`triggered ${effect.job}${describeOptions(effect.options)}: run ${runId}`),
        failed(`triggering ${effect.job}`),
      );
    case "retry":
      return settle(() => controller.retry(effect.runId), () => notice(`retrying the failed chunks of run ${effect.runId}`), failed(`retrying run ${effect.runId}`));
    case "retry-all":
      return settle(() => controller.retryAllFailed(), (n) => notice(n === 0 ? "no failed runs to retry" : `retrying ${n} failed run(s)`), failed("retrying failed runs"));
    case "cancel":
      return settle(() => controller.cancel(effect.runId), () => notice(`cancelled run ${effect.runId}`), failed(`cancelling run ${effect.runId}`));
    case "pause":
      return settle(() => controller.setPaused(effect.paused), () => undefined, failed(effect.paused ? "pausing" : "resuming"));
    case "log-tail":
      return settle(
        () => controller.logTail(effect.job, effect.lines),
        (lines) => dispatch({ type: "logs", request: effect.request, lines }),
        failed(`reading the logs of ${effect.job ?? "all jobs"}`),
      );
    case "graph":
      return settle(() => controller.graph(effect.job), (lines) => dispatch({ type: "show-text", title: `dependencies of ${effect.job}`, lines }), failed(`the graph of ${effect.job}`));
    case "heatmap":
      return settle(
        () => controller.heatmap(effect.job),
        (data) => dispatch({ type: "heatmap", request: effect.request, data }),
        (error) => dispatch({ type: "heatmap", request: effect.request, data: null, error: `reading the heatmap of ${effect.job} failed: ${message(error)}` }),
      );
    case "chunk-log":
      return settle(
        () => controller.logTail(effect.job, CHUNK_LOG_LINES, effect.chunkId),
        (lines) => dispatch({ type: "show-text", title: `log of ${chunkLabel(effect.chunkId)}`, lines: lines.length ? lines.map(logLineText) : ["(no log lines)"], back: effect.back }),
        failed(`reading the log of ${chunkLabel(effect.chunkId)}`),
      );
    case "refresh":
      return ctx.refresh();
    case "quit":
      return settle(() => controller.quit(effect.force), () => ctx.exit(), (error) => ctx.exit(error));
    case "exit":
      return ctx.exit();
  }
}
