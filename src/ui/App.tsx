import { Box, useStdin } from "ink";
import { useCallback, useEffect, useMemo } from "react";
import type { ConsoleStore } from "./console-store.js";
import { Dialog } from "./Dialog.js";
import { FailuresPane } from "./FailuresPane.js";
import { Footer } from "./Footer.js";
import { Header } from "./Header.js";
import { JobsPane, jobsPaneWidth } from "./JobsPane.js";
import { computeLayout, type PaneBox } from "./layout.js";
import { LogsPane } from "./LogsPane.js";
import { QueuePane } from "./QueuePane.js";
import { RunningPane } from "./RunningPane.js";
import type { ConsoleState } from "./state.js";
import { colorAllowed, ColorContext } from "./theme.js";
import { useConsoleState } from "./use-console-state.js";
import { usePaneInput, type KeyPress, type PaneKeys } from "./use-pane-input.js";
import { useTerminalSize } from "./use-terminal-size.js";

export interface AppProps {
  readonly store: ConsoleStore;
  /** Named colors on or off; defaults to off when NO_COLOR is set. */
  readonly color?: boolean;
}

/** One pane in its box; `keys` is active only for the focused one. */
function PaneIn({ box, state, keys }: { box: PaneBox; state: ConsoleState; keys: PaneKeys }) {
  const focused = state.focus === box.pane;
  const common = { width: box.width, height: box.height, focused, keys: { ...keys, active: keys.active && focused } };
  const { views, selected, top, now, data } = state;
  switch (box.pane) {
    case "jobs":
      return <JobsPane {...common} jobs={views.jobs} selected={selected.jobs} top={top.jobs} now={now} schedule={data.draining ? "draining" : data.paused ? "paused" : "on"} />;
    case "queue":
      return <QueuePane {...common} queue={views.queue} selected={selected.queue} top={top.queue} now={now} />;
    case "running":
      return (
        <RunningPane {...common} running={views.running} progress={data.progress} selected={selected.running} top={top.running} now={now} workers={data.workers} busy={data.busy} claimed={views.counts.claimed - views.inBatches.waiting} inBatches={views.inBatches} />
      );
    case "failures":
      return <FailuresPane {...common} failures={views.failures} selected={selected.failures} top={top.failures} now={now} />;
    case "logs":
      return <LogsPane {...common} logs={state.logs} />;
  }
}

/**
 * What lives as long as the console: the size and key handlers and the raw-mode hold,
 * made here rather than in App. A closure keeps the whole scope it was made in, and one
 * kept from App's first render would keep that render's state, and with it, through the
 * chunk map's history (persistent-map.ts), every chunk record the console saw since.
 */
function useConsoleInput(dispatch: ConsoleStore["dispatch"]): (presses: readonly KeyPress[]) => void {
  const onSize = useCallback((rows: number, columns: number) => dispatch({ type: "resize", rows, columns }), [dispatch]);
  useTerminalSize(onSize);
  const { setRawMode, isRawModeSupported } = useStdin();
  // Raw mode for the console's whole life: when focus moves, one pane's useInput turns off
  // before the next turns on, and without this hold the terminal would leave raw mode between.
  useEffect(() => {
    if (!isRawModeSupported) return;
    setRawMode(true);
    return () => setRawMode(false);
  }, [isRawModeSupported, setRawMode]);
  return useCallback((presses: readonly KeyPress[]) => dispatch({ type: "keys", presses }), [dispatch]);
}

/** The panes, column by column. */
function Columns({ columns, state, keys }: { columns: readonly (readonly PaneBox[])[]; state: ConsoleState; keys: PaneKeys }) {
  return (
    <>
      {columns.map((column, i) => (
        <Box key={i} flexDirection="column" width={column[0].width} marginLeft={i > 0 ? 1 : 0}>
          {column.map((box) => (
            <PaneIn key={box.pane} box={box} state={state} keys={keys} />
          ))}
        </Box>
      ))}
    </>
  );
}

/** The console: header, the panes (or a dialog over them), footer — never taller than the terminal. */
export function App({ store, color = colorAllowed() }: AppProps) {
  const state = useConsoleState(store);
  const onKeys = useConsoleInput(store.dispatch);
  // Jobs and Queue get the width their longest job name needs, when the terminal has it.
  // (Closures here name no more than they need: see useConsoleInput.)
  const { size, focus } = state;
  const jobs = state.views.jobs;
  const leftWants = useMemo(() => jobsPaneWidth(jobs), [jobs]);
  const layout = useMemo(() => computeLayout(size, focus, leftWants), [size, focus, leftWants]);
  const dialog = state.overlay !== null && layout.body > 0;
  const paneShown = layout.columns.some((column) => column.some((box) => box.pane === focus));
  // In a terminal too small for any pane, keys still have to reach somebody (Ctrl+C above all).
  usePaneInput({ active: !dialog && !paneShown, onKeys });
  const keys: PaneKeys = { active: !dialog, onKeys };
  return (
    <ColorContext.Provider value={color}>
      <Box flexDirection="column" width={layout.width} height={layout.frame} overflowY="hidden">
        {layout.header > 0 ? <Header data={state.data} counts={state.views.counts} failures={state.views.failureCounts} now={state.now} height={layout.header} width={layout.width} /> : null}
        {dialog ? (
          <Dialog overlay={state.overlay!} width={layout.width} height={layout.body} now={state.now} keys={{ active: true, onKeys }} />
        ) : (
          <Box flexDirection="row" height={layout.body} overflowY="hidden">
            <Columns columns={layout.columns} state={state} keys={keys} />
          </Box>
        )}
        {layout.footer > 0 ? <Footer state={state} width={layout.width} /> : null}
      </Box>
    </ColorContext.Provider>
  );
}
