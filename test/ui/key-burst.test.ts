import { describe, expect, test } from "vitest";
import type { Key } from "ink";
import { splitPresses } from "../../src/ui/use-pane-input.js";
import { job, snapshot } from "./fixtures.js";
import { apply, cmd, press, start } from "./helpers.js";

// Keys that arrive in one write — key repeat, a paste, `jj` sent at once — reach the
// console as one input; each key of it counts, in order, each against the state the one
// before left.

const jobs = (n: number) => Array.from({ length: n }, (_, i) => job(`job_${i}`));
/** What Ink's useInput passes for a burst of plain characters: the whole run, no key flags. */
const burst = (text: string) => ({ type: "keys" as const, presses: splitPresses(text, press("x")[1] as Partial<Key>) });

describe("key bursts", () => {
  test("splits a run of plain characters into key presses, and leaves single keys and escape sequences whole", () => {
    expect(splitPresses("jj", {}).map((p) => p.input)).toEqual(["j", "j"]);
    expect(splitPresses("\t\t", {}).map((p) => p.key.tab)).toEqual([true, true]);
    expect(splitPresses("k\r", {}).map((p) => [p.input, p.key.return ?? false])).toEqual([["k", false], ["", true]]);
    expect(splitPresses("\u0003", { ctrl: true })).toEqual([{ input: "\u0003", key: { ctrl: true } }]);
    expect(splitPresses("j\u0003", {})[1]).toEqual({ input: "c", key: { ctrl: true } });
    expect(splitPresses("", { upArrow: true })).toEqual([{ input: "", key: { upArrow: true } }]);
    expect(splitPresses("Rr", {}).map((p) => [p.input, p.key.shift])).toEqual([["R", true], ["r", false]]);
  });

  test("jj moves two rows, and k k k three back", () => {
    let state = apply(start(snapshot({ jobs: jobs(6) })), burst("jj"));
    expect(state.selected.jobs).toBe(2);
    state = apply(state, burst("jjj"), burst("kkk"));
    expect(state.selected.jobs).toBe(2);
  });

  test("Tab Tab Tab moves focus three panes on", () => {
    const stepped = apply(start(snapshot({ jobs: jobs(2) })), cmd("next-pane"), cmd("next-pane"), cmd("next-pane"));
    expect(stepped.focus).not.toBe("jobs");
    expect(apply(start(snapshot({ jobs: jobs(2) })), burst("\t\t\t")).focus).toBe(stepped.focus);
  });

  test("a key after Tab acts in the pane the Tab focused", () => {
    const state = apply(start(snapshot({ jobs: jobs(4) })), burst("j\tj"));
    expect(state.selected.jobs).toBe(1);
    expect(state.focus).not.toBe("jobs");
  });

  test("typing into the search takes the whole burst as text, and Enter in it keeps the search", () => {
    const state = apply(start(snapshot({ jobs: jobs(1) })), burst("a/err"));
    expect(state.logs.query).toBe("err");
    const kept = apply(state, { type: "keys", presses: splitPresses("\r", { return: true }) });
    expect(kept.logs.editing).toBe(false);
  });
});
