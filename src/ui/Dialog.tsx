import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { printable } from "./format.js";
import { HeatmapView } from "./HeatmapView.js";
import { helpLines } from "./key-map.js";
import { PlanDialog } from "./PlanDialog.js";
import type { Overlay } from "./state.js";
import { TriggerFormView } from "./TriggerFormView.js";
import { usePaneInput, type PaneKeys } from "./use-pane-input.js";
import { clamp } from "./virtual-list.js";

export interface DialogProps {
  readonly overlay: Overlay;
  readonly width: number;
  readonly height: number;
  readonly now: number;
  /** While a dialog is open it alone takes keys. */
  readonly keys?: PaneKeys;
}

/** Scrollable plain lines; only the visible ones are built. */
function Lines({ lines, scroll, rows }: { lines: readonly string[]; scroll: number; rows: number }) {
  const start = clamp(scroll, 0, Math.max(0, lines.length - rows));
  return (
    <>
      {lines.slice(start, start + rows).map((line, i) => (
        <Text key={start + i} wrap="truncate-end">
          {printable(line) || " "}
        </Text>
      ))}
    </>
  );
}

/** The overlay in place of the panes: help, a whole error, the graph, the plan, a question. */
export function Dialog({ overlay, width, height, now, keys }: DialogProps) {
  usePaneInput(keys);
  const rows = Math.max(0, height - 2);
  let title: string;
  let hint: string;
  let body: ReactNode;
  switch (overlay.kind) {
    case "help":
      [title, hint, body] = ["Keys", "↑↓ scroll · Esc/? closes", <Lines lines={helpLines()} scroll={overlay.scroll} rows={rows} />];
      break;
    case "text":
      [title, hint, body] = [overlay.title, overlay.back ? "↑↓ scroll · Esc back" : "↑↓ scroll · Esc closes", <Lines lines={overlay.lines} scroll={overlay.scroll} rows={rows} />];
      break;
    case "plan": {
      title = `Trigger ${overlay.job}?`;
      const back = overlay.form ? "Esc back to the form" : "Esc cancels";
      hint = overlay.preview ? `Enter triggers · ${back}` : overlay.error && overlay.form ? `Enter/${back}` : back;
      body = <PlanDialog job={overlay.job} preview={overlay.preview} error={overlay.error} options={overlay.options} now={now} scroll={overlay.scroll} rows={rows} />;
      break;
    }
    case "heatmap":
      title = `Heatmap of ${overlay.job}`;
      hint = "←↑↓→ move · Enter the chunk's log · m shade by duration/age · Esc closes";
      body = <HeatmapView data={overlay.data} error={overlay.error} cursor={overlay.cursor} scroll={overlay.scroll} shade={overlay.shade} width={width} rows={rows} now={now} />;
      break;
    case "form":
      [title, hint] = [`Trigger ${overlay.form.job} with…`, "Tab/↑↓ next field · Enter checks and shows the plan · Esc cancels"];
      body = <TriggerFormView form={overlay.form} rows={rows} />;
      break;
    case "confirm": {
      const c = overlay.confirm;
      if (c.kind === "cancel-run") {
        title = `Cancel run ${c.runId} of ${c.job}?`;
        body = <Text wrap="truncate-end">Its running chunks are stopped and its queued chunks never start.</Text>;
        hint = "Enter/y cancels the run · Esc/n keeps it";
      } else {
        title = "Quit stau?";
        body = <Text wrap="truncate-end">{`${c.running} chunk(s) running: they get the drain timeout to finish, then stau stops.`}</Text>;
        hint = "Enter/y quits · Esc/n stays · Ctrl+C twice forces";
      }
      break;
    }
  }
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <Text bold wrap="truncate-end">
        {title}
      </Text>
      <Box flexDirection="column" height={rows} overflowY="hidden">
        {body}
      </Box>
      {height > 1 ? (
        <Text dimColor wrap="truncate-end">
          {hint}
        </Text>
      ) : null}
    </Box>
  );
}
