import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { FOCUS_MARK, SELECTED_MARK } from "./theme.js";
import { usePaneInput, type PaneKeys } from "./use-pane-input.js";
import { visibleWindow } from "./virtual-list.js";

/** What every pane gets from the layout. */
export interface PaneProps {
  readonly width: number;
  /** Rows including the title line. */
  readonly height: number;
  readonly focused: boolean;
  /** Present when the pane may take keys (only the focused one's is active). */
  readonly keys?: PaneKeys;
}

/** A pane: a title line over its rows, clipped to exactly its box so the frame never grows. */
export function Pane({ title, width, height, focused, keys, children }: PaneProps & { title: string; children?: ReactNode }) {
  usePaneInput(keys);
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <Text wrap="truncate-end" bold={focused} dimColor={!focused}>
        {focused ? FOCUS_MARK : " "} {title}
      </Text>
      {children}
    </Box>
  );
}

/** One list row; the selected row of the focused pane is inverse and marked. */
export function Row({ selected, children }: { selected: boolean; children?: ReactNode }) {
  return (
    <Text wrap="truncate-end" inverse={selected}>
      {selected ? SELECTED_MARK : " "} {children}
    </Text>
  );
}

export interface ListBodyProps<T> {
  readonly items: readonly T[];
  readonly selected: number;
  readonly top: number;
  /** Rows available for items. */
  readonly rows: number;
  readonly focused: boolean;
  readonly empty: string;
  readonly render: (item: T, index: number) => ReactNode;
}

/** The visible slice of a list: only these rows are ever built, however long the list. */
export function ListBody<T>({ items, selected, top, rows, focused, empty, render }: ListBodyProps<T>) {
  if (rows <= 0) return null;
  if (items.length === 0) return <Text dimColor wrap="truncate-end">{`  ${empty}`}</Text>;
  const window = visibleWindow(items.length, selected, rows, top);
  const out: ReactNode[] = [];
  for (let i = window.start; i < window.end; i++) {
    out.push(
      <Row key={i} selected={focused && i === window.selected}>
        {render(items[i], i)}
      </Row>,
    );
  }
  return <>{out}</>;
}

/** "Queue 20000" or, when it scrolls, "Queue 20000 · 15/20000". */
export function listTitle(name: string, length: number, selected: number, rows: number): string {
  return length > rows ? `${name} ${length} · ${Math.min(selected + 1, length)}/${length}` : `${name} ${length}`;
}
