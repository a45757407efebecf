import { describe, expect, test } from "vitest";
import { computeLayout, paneRows, split } from "../../src/ui/layout.js";
import { PANES } from "../../src/ui/state.js";
import { visibleWindow } from "../../src/ui/virtual-list.js";

describe("visibleWindow", () => {
  test("a short list shows whole", () => {
    expect(visibleWindow(3, 1, 10)).toEqual({ start: 0, end: 3, selected: 1 });
  });

  test("keeps the remembered top while the selection is in view", () => {
    expect(visibleWindow(100, 25, 10, 20)).toEqual({ start: 20, end: 30, selected: 25 });
  });

  test("scrolls just enough to bring the selection in, below or above", () => {
    expect(visibleWindow(100, 30, 10, 20)).toMatchObject({ start: 21, end: 31 });
    expect(visibleWindow(100, 5, 10, 20)).toMatchObject({ start: 5, end: 15 });
  });

  test("clamps a selection and top outside the list", () => {
    expect(visibleWindow(20_000, 99_999, 12, 0)).toEqual({ start: 19_988, end: 20_000, selected: 19_999 });
    expect(visibleWindow(50, -4, 10, 45)).toEqual({ start: 0, end: 10, selected: 0 });
  });

  test("never leaves empty rows at the bottom while rows above are hidden", () => {
    expect(visibleWindow(30, 29, 10, 25)).toMatchObject({ start: 20, end: 30 });
  });

  test("empty lists and zero-height panes show nothing", () => {
    expect(visibleWindow(0, 0, 10)).toEqual({ start: 0, end: 0, selected: -1 });
    expect(visibleWindow(10, 3, 0)).toMatchObject({ start: 0, end: 0 });
  });

  test("the window of a 20,000-row list holds only the pane's rows", () => {
    const w = visibleWindow(20_000, 12_345, 17, 0);
    expect(w.end - w.start).toBe(17);
    expect(w.selected).toBeGreaterThanOrEqual(w.start);
    expect(w.selected).toBeLessThan(w.end);
  });
});

describe("layout", () => {
  const heights = (rows: number, columns: number) => computeLayout({ rows, columns }, "jobs");

  test.each([
    [50, 160], [40, 120], [30, 100], [24, 80], [16, 80], [12, 60], [6, 40], [3, 20], [2, 10], [1, 10],
  ])("%i×%i: the frame stays below the terminal height and the columns add up", (rows, columns) => {
    const layout = heights(rows, columns);
    expect(layout.frame).toBeLessThan(rows);
    expect(layout.header + layout.body + layout.footer).toBe(layout.frame);
    for (const column of layout.columns) expect(column.reduce((sum, box) => sum + box.height, 0)).toBe(layout.body);
    const widths = layout.columns.map((c) => c[0].width);
    expect(widths.reduce((a, b) => a + b, 0) + widths.length - 1).toBeLessThanOrEqual(columns);
  });

  test("wide terminals get two columns; narrow ones stack; small ones show the focused pane only", () => {
    expect(heights(40, 160).columns).toHaveLength(2);
    expect(heights(40, 90).columns).toHaveLength(1);
    expect(heights(40, 90).columns[0]).toHaveLength(5);
    const small = computeLayout({ rows: 12, columns: 90 }, "failures");
    expect(small.columns).toEqual([[{ pane: "failures", height: small.body, width: 90 }]]);
  });

  test("every pane is on screen in the roomy layouts", () => {
    for (const size of [{ rows: 40, columns: 160 }, { rows: 40, columns: 90 }]) {
      const layout = computeLayout(size, "jobs");
      for (const pane of PANES) expect(paneRows(layout, pane), `${pane} at ${size.columns}`).toBeGreaterThan(1);
    }
  });

  test("split hands out every row by weight", () => {
    expect(split(20, [1, 1], 3)).toEqual([10, 10]);
    expect(split(21, [3, 2, 2, 2, 3], 3).reduce((a, b) => a + b)).toBe(21);
  });
});
