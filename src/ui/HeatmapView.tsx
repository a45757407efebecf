import { Text } from "ink";
import { useMemo, type ReactNode } from "react";
import type { HeatmapData } from "../console/contract.js";
import { cellLook, cursorLine, gridColumns, heatStats, HEATMAP_CHROME, summaryLine, type HeatShade } from "./heatmap.js";
import { Styled } from "./Styled.js";
import type { Look } from "./theme.js";

export interface HeatmapViewProps {
  readonly data: HeatmapData | null;
  readonly error: string | null;
  readonly cursor: number;
  readonly scroll: number;
  readonly shade: HeatShade;
  readonly width: number;
  readonly rows: number;
  readonly now: number;
}

const sameLook = (a: Look, b: Look) => a.color === b.color && a.dim === b.dim && a.bold === b.bold;

/**
 * The grid of work IDs, one character each, only its visible rows built. Neighbouring
 * cells that look alike are drawn as one run of text, so a row costs a few elements
 * however wide it is; the cursor's cell is drawn inverse.
 */
export function HeatmapView({ data, error, cursor, scroll, shade, width, rows, now }: HeatmapViewProps) {
  // Over every cell, so once per answer, not per frame: a cursor move must cost what the visible rows cost.
  const stats = useMemo(() => heatStats(data?.cells ?? []), [data]);
  if (!data) return <Text wrap="truncate-end">{error ?? "reading the latest run…"}</Text>;
  const columns = gridColumns(width);
  const gridRows = Math.max(1, rows - HEATMAP_CHROME);
  const lines: ReactNode[] = [];
  for (let row = scroll; row < scroll + gridRows && row * columns < data.cells.length; row++) {
    const parts: ReactNode[] = [];
    let text = "";
    let look: Look | null = null;
    const flush = (key: number) => {
      if (look && text) parts.push(<Styled key={key} look={look}>{text}</Styled>);
      text = "";
    };
    const end = Math.min(data.cells.length, (row + 1) * columns);
    for (let i = row * columns; i < end; i++) {
      const cell = cellLook(data.cells[i]!, stats, shade, now);
      if (i === cursor) {
        flush(i);
        parts.push(<Text key={`c${i}`} inverse>{cell.char}</Text>);
        look = null;
        continue;
      }
      if (!look || !sameLook(look, cell.look)) {
        flush(i);
        look = cell.look;
      }
      text += cell.char;
    }
    flush(end);
    lines.push(<Text key={row} wrap="truncate-end">{parts}</Text>);
  }
  return (
    <>
      <Text wrap="truncate-end" dimColor>
        {summaryLine(data, stats, shade)}
      </Text>
      {lines}
      <Text wrap="truncate-end">{cursorLine(data.cells[cursor], now)}</Text>
    </>
  );
}
