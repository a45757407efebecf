// The chunk heatmap's frame: a cursor move redrawn with 100,000 work IDs in the run, against
// the same with one screenful of them (34 rows of 160). Only the visible rows are built,
// so the two should cost the same: what a frame costs does not grow with the run.
import { performance } from "node:perf_hooks";
import { FakeStdout, loadUi } from "./console.mjs";
import { median } from "./project.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A heatmap of `count` work IDs drawn by Ink into a fake terminal; `frame(cursor)` resolves with one redraw's time. */
async function heatmapApp(render, createElement, HeatmapView, count) {
  const now = Date.now();
  const cells = Array.from({ length: count }, (_, i) => ({ id: i, chunkId: `r.j.${Math.floor(i / 100)}`, state: i % 997 === 0 ? "failed" : "done", attempts: 1, durationMs: 50 + (i % 200), finishedAt: now - 60_000 }));
  const data = { job: "j", runId: "r", runJob: "j", status: "failed", cells };
  const props = (cursor) => ({ data, error: null, cursor, scroll: 0, shade: "duration", width: 160, rows: 36, now });
  const stdout = new FakeStdout();
  const app = render(createElement(HeatmapView, props(0)), { stdout, patchConsole: false, exitOnCtrlC: false });
  await sleep(100);
  return {
    async frame(cursor) {
      await sleep(60); // past Ink's frame throttle
      const written = new Promise((resolve) => (stdout.onWrite = resolve));
      const start = performance.now();
      app.rerender(createElement(HeatmapView, props(cursor)));
      return (await written) - start;
    },
    unmount: () => app.unmount(),
  };
}

// The two sizes take turns, frame by frame: a collection of what earlier benches in the
// same process left behind then lands on either, not on whichever was measured second.
export async function heatmapFrames(samples = 30) {
  const { createElement, render } = await loadUi();
  const { HeatmapView } = await import("../dist/ui/HeatmapView.js");
  const small = await heatmapApp(render, createElement, HeatmapView, 34 * 160);
  const big = await heatmapApp(render, createElement, HeatmapView, 100_000);
  const smallTimes = [];
  const bigTimes = [];
  for (let i = 1; i <= samples; i++) {
    smallTimes.push(await small.frame(i));
    bigTimes.push(await big.frame(i));
  }
  small.unmount();
  big.unmount();
  const [baseline, value] = [median(smallTimes), median(bigTimes)];
  return { name: "heatmap_frame_ms", value, unit: "ms", baseline, ratio: value / baseline, detail: "100,000 work IDs vs one screenful (5,440), 160×36, one cursor move a frame, the two alternated; target ≤ 1.2" };
}
