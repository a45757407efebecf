import { afterAll, describe, expect, test, vi } from "vitest";

// chalk decides its color level when it is imported: force color for this file only, so
// the frames carry escape codes and NO_COLOR handling becomes visible.
const previous = vi.hoisted(() => {
  const before = process.env.FORCE_COLOR;
  process.env.FORCE_COLOR = "3";
  return before;
});
afterAll(() => {
  if (previous === undefined) delete process.env.FORCE_COLOR;
  else process.env.FORCE_COLOR = previous;
});

const { render } = await import("ink-testing-library");
const { JobsPane } = await import("../../src/ui/JobsPane.js");
const { ColorContext, colorAllowed } = await import("../../src/ui/theme.js");
const { dataFromSnapshot } = await import("../../src/ui/data-reducer.js");
const { deriveViews } = await import("../../src/ui/views.js");
const { job, NOW, snapshot } = await import("./fixtures.js");

const views = deriveViews(dataFromSnapshot(snapshot({ jobs: [job("ok"), job("bad", { broken: "jobs/bad.ts:1 boom" })] })));

function frame(color: boolean) {
  const app = render(
    <ColorContext.Provider value={color}>
      <JobsPane width={80} height={4} focused jobs={views.jobs} selected={0} top={0} now={NOW} />
    </ColorContext.Provider>,
  );
  const out = app.lastFrame() ?? "";
  app.unmount();
  return out;
}

const RED = "\u001b[31m";
const INVERSE = "\u001b[7m";

describe("colors", () => {
  test("meaningful states are colored; no background color is ever set", () => {
    const out = frame(true);
    expect(out).toContain(RED);
    expect(out).not.toMatch(/\u001b\[(4[0-7]|10[0-7]|48;)/);
  });

  test("without colors (NO_COLOR) the frame has no named colors but keeps inverse selection", () => {
    const out = frame(false);
    expect(out).not.toMatch(/\u001b\[(3[0-7]|9[0-7]|38;)/);
    expect(out).toContain(INVERSE);
    expect(out).toContain("broken");
  });

  test("NO_COLOR set to anything non-empty turns colors off", () => {
    expect(colorAllowed({})).toBe(true);
    expect(colorAllowed({ NO_COLOR: "" })).toBe(true);
    expect(colorAllowed({ NO_COLOR: "1" })).toBe(false);
  });
});
