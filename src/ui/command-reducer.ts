import { failureText } from "./failure-text.js";
import { heatmapCommand, openHeatmap } from "./heatmap-reducer.js";
import type { Command } from "./key-map.js";
import { scrollLogs, setScope, TAIL_LINES, toggleFollow } from "./logs-reducer.js";
import { cyclePane, moveSelection, rowsOf } from "./navigation.js";
import { overlayCommand } from "./overlay-reducer.js";
import type { ConsoleState, Effect, Notice } from "./state.js";
import { selectedJob, selectedRun } from "./targets.js";
import { emptyForm } from "./trigger-form.js";

const withEffect = (state: ConsoleState, ...effects: Effect[]): ConsoleState => ({ ...state, effects: [...state.effects, ...effects] });
const notify = (state: ConsoleState, text: string, level: Notice["level"] = "info"): ConsoleState => ({ ...state, notice: { text, level, at: state.now } });

/** What a command does to the state; calls on the controller are returned as effects. */
export function applyCommand(state: ConsoleState, command: Command): ConsoleState {
  if (command.type === "interrupt") return interrupt(state);
  if (state.overlay?.kind === "heatmap") return heatmapCommand(state, state.overlay, command);
  if (state.overlay) return overlayCommand(state, command);
  switch (command.type) {
    case "up":
    case "down":
    case "page-up":
    case "page-down":
    case "top":
    case "bottom":
      return move(state, command.type);
    case "next-pane":
    case "prev-pane":
      return { ...state, focus: cyclePane(state.focus, command.type === "next-pane" ? 1 : -1) };
    case "trigger": {
      const job = selectedJob(state);
      if (job === null) return notify(state, "select a job to trigger");
      const request = state.nextRequest;
      return withEffect({ ...state, nextRequest: request + 1, overlay: { kind: "plan", job, request, preview: null, error: null, scroll: 0 } }, { type: "plan", job, request });
    }
    case "trigger-form": {
      const job = selectedJob(state);
      if (job === null) return notify(state, "select a job to trigger");
      return { ...state, overlay: { kind: "form", form: emptyForm(job), scroll: 0 } };
    }
    case "retry": {
      const run = selectedRun(state, "failed");
      if (!run) return notify(state, "select a failed run to retry (Failures pane, or a job whose last run failed)", "warn");
      if (run.status && run.status !== "failed") return notify(state, `run ${run.id} is ${run.status}; only a finished failed run can be retried`, "warn");
      return withEffect(notify(state, `retrying the failed chunks of run ${run.id}…`), { type: "retry", runId: run.id });
    }
    case "retry-all":
      return withEffect(notify(state, "retrying every failed run…"), { type: "retry-all" });
    case "cancel-run": {
      const run = selectedRun(state, "active");
      if (!run) return notify(state, "select an active run to cancel (Queue or Running pane, or a job with an active run)", "warn");
      if (run.status && run.status !== "waiting" && run.status !== "running") return notify(state, `run ${run.id} has already ${run.status === "done" ? "finished" : run.status}`, "warn");
      return { ...state, overlay: { kind: "confirm", confirm: { kind: "cancel-run", runId: run.id, job: run.job }, scroll: 0 } };
    }
    case "open-error": {
      const text = failureText(state);
      return text ? { ...state, overlay: { kind: "text", title: text.title, lines: text.lines, scroll: 0 } } : state;
    }
    case "logs-selected":
    case "logs-all": {
      const job = command.type === "logs-all" ? null : selectedJob(state);
      if (command.type === "logs-selected" && job === null) return notify(state, "select a job to show its logs");
      const request = state.nextRequest;
      const next = { ...state, focus: "logs" as const, nextRequest: request + 1, logs: setScope(state.logs, job, request) };
      return withEffect(next, { type: "log-tail", job, lines: TAIL_LINES, request });
    }
    case "follow":
      return { ...state, logs: toggleFollow(state.logs) };
    case "wrap":
      return { ...state, logs: { ...state.logs, wrap: !state.logs.wrap } };
    case "search":
      return { ...state, focus: "logs", logs: { ...state.logs, editing: true } };
    case "clear-search":
      return state.logs.query ? { ...state, logs: { ...state.logs, query: "" } } : state;
    case "search-type":
      return { ...state, logs: { ...state.logs, query: state.logs.query + command.text } };
    case "search-erase":
      return { ...state, logs: { ...state.logs, query: state.logs.query.slice(0, -1) } };
    case "search-commit":
      return { ...state, logs: { ...state.logs, editing: false } };
    case "search-cancel":
      return { ...state, logs: { ...state.logs, editing: false, query: "" } };
    case "heatmap": {
      const job = selectedJob(state);
      return job === null ? notify(state, "select a job to see its heatmap") : openHeatmap(state, job);
    }
    case "graph": {
      const job = selectedJob(state);
      return job === null ? notify(state, "select a job to see its graph") : withEffect(state, { type: "graph", job });
    }
    case "pause": {
      const paused = !state.data.paused;
      return withEffect(notify({ ...state, data: { ...state.data, paused } }, paused ? "scheduler paused" : "scheduler resumed"), { type: "pause", paused });
    }
    case "help":
      return { ...state, overlay: { kind: "help", scroll: 0 } };
    case "quit": {
      if (state.quit !== "running") return state;
      // Chunks on a thread: those claimed ahead go back to the queue at once.
      const running = state.views.counts.running;
      if (running > 0) return { ...state, overlay: { kind: "confirm", confirm: { kind: "quit", running }, scroll: 0 } };
      return withEffect({ ...state, quit: "draining" }, { type: "quit", force: false });
    }
    case "confirm":
    case "close":
    case "next-field":
    case "prev-field":
    case "form-erase":
    case "form-type":
    case "left":
    case "right":
    case "shade":
      return state;
  }
}

/** Ctrl+C: the first drains like SIGTERM (no question), the second forces. */
function interrupt(state: ConsoleState): ConsoleState {
  if (state.quit === "running") {
    const next = notify({ ...state, quit: "draining", interrupted: true, overlay: null }, "stopping: running chunks may finish — Ctrl+C again to force", "warn");
    return withEffect(next, { type: "quit", force: false });
  }
  if (state.quit === "draining") {
    const next = notify({ ...state, quit: "forcing", interrupted: true, overlay: null }, "forcing stop: aborting running chunks", "error");
    return withEffect(next, { type: "quit", force: true });
  }
  return state;
}

function move(state: ConsoleState, how: "up" | "down" | "page-up" | "page-down" | "top" | "bottom"): ConsoleState {
  const page = Math.max(1, rowsOf(state, state.focus) - (state.focus === "logs" ? 0 : 1));
  const delta = { up: -1, down: 1, "page-up": -page, "page-down": page, top: -Infinity, bottom: Infinity }[how];
  if (state.focus === "logs") return { ...state, logs: scrollLogs(state.logs, delta, rowsOf(state, "logs")) };
  return moveSelection(state, state.focus, delta);
}
