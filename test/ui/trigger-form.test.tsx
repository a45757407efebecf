import type { Key } from "ink";
import { describe, expect, test } from "vitest";
import { Dialog } from "../../src/ui/Dialog.js";
import { commandFor } from "../../src/ui/key-map.js";
import { reduce } from "../../src/ui/reducer.js";
import type { ConsoleState, Overlay } from "../../src/ui/state.js";
import { checkForm, emptyForm, parseKwargsField, parseWorkIdsField } from "../../src/ui/trigger-form.js";
import { splitPresses } from "../../src/ui/use-pane-input.js";
import { job, NOW, plan, snapshot } from "./fixtures.js";
import { frameOf } from "./frames.js";
import { apply, cmd, press, start } from "./helpers.js";

// `T`: kwargs and work IDs typed in a form, checked, then the plan for exactly those,
// then Enter triggers with them.

const s = snapshot({ jobs: [job("daily_stats")] });
/** Typed as a terminal sends it: one burst of characters (a paste looks the same). */
const typing = (text: string) => ({ type: "keys" as const, presses: splitPresses(text, press("x")[1] as Partial<Key>) });
const key = (name: string) => ({ type: "keys" as const, presses: [{ input: press(name)[0], key: press(name)[1] }] });
const overlay = (state: ConsoleState): Overlay => state.overlay!;
const form = (state: ConsoleState) => {
  const o = overlay(state);
  if (o.kind !== "form") throw new Error(`expected the form, the overlay is ${o.kind}`);
  return o.form;
};

describe("the T form's fields", () => {
  test("kwargs: empty is {}; a JSON object passes; anything else says what it expected and got", () => {
    expect(parseKwargsField("  ")).toEqual({ ok: true, value: {} });
    expect(parseKwargsField('{"days": 7}')).toEqual({ ok: true, value: { days: 7 } });
    expect(parseKwargsField("[1,2]")).toEqual({ ok: false, error: 'must be a JSON object like {"days": 7}, received an array' });
    expect(parseKwargsField("7")).toEqual({ ok: false, error: 'must be a JSON object like {"days": 7}, received number 7' });
    const bad = parseKwargsField("{days: 7}");
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^not valid JSON \(.+\); write an object like \{"days": 7\}$/);
  });

  test("work IDs: empty lets selectWork decide; 1,2,3 (numbers where they look like numbers) or a JSON array", () => {
    expect(parseWorkIdsField("")).toEqual({ ok: true, value: null });
    expect(parseWorkIdsField("1, 2,x-3")).toEqual({ ok: true, value: [1, 2, "x-3"] });
    expect(parseWorkIdsField('["a", 2]')).toEqual({ ok: true, value: ["a", 2] });
    expect(parseWorkIdsField("1,,2")).toEqual({ ok: false, error: "item 2 of 3 is empty; separate IDs with single commas: 1,2,3" });
    expect(parseWorkIdsField('["a", true]')).toEqual({ ok: false, error: "item 2 of 2 is boolean true: work IDs are strings or numbers" });
    const bad = parseWorkIdsField("[1,2");
    expect(!bad.ok && bad.error).toMatch(/^not a valid JSON array \(.+\); write 1,2,3 or \["a","b"\]$/);
  });

  test("checkForm reports every wrong field at once and puts the cursor on the first", () => {
    const checked = checkForm({ ...emptyForm("j"), kwargs: "nope", workIds: "1,", field: "workIds" });
    expect("form" in checked && checked.form.field).toBe("kwargs");
    expect("form" in checked && checked.form.errors.kwargs).toMatch(/not valid JSON/);
    expect("form" in checked && checked.form.errors.workIds).toBe("item 2 of 2 is empty; separate IDs with single commas: 1,2,3");
  });
});

describe("T in the console", () => {
  test("T opens the form; letters that are commands elsewhere are text in it", () => {
    expect(commandFor(...press("T"), { focus: "jobs", mode: "normal" })?.type).toBe("trigger-form");
    let state = reduce(start(s), key("T"));
    expect(form(state)).toEqual(emptyForm("daily_stats"));
    state = apply(state, typing('{"q": "t?"}'));
    expect(form(state).kwargs).toBe('{"q": "t?"}');
    expect(state.quit).toBe("running");
    expect(state.effects).toEqual([]);
  });

  test("valid input: Enter shows the plan for those kwargs and work IDs, Enter again triggers with them", () => {
    let state = apply(start(s), key("T"), typing('{"days": 7}'), key("tab"), typing("1,2,3"), key("enter"));
    const options = { kwargs: { days: 7 }, workIds: [1, 2, 3] };
    expect(overlay(state)).toMatchObject({ kind: "plan", job: "daily_stats", preview: null, options });
    const request = overlay(state).kind === "plan" ? (overlay(state) as { request: number }).request : -1;
    expect(state.effects).toEqual([{ type: "plan", job: "daily_stats", request, options }]);
    state = apply(state, { type: "plan", request, preview: plan }, key("enter"));
    expect(state.overlay).toBeNull();
    expect(state.effects).toEqual([{ type: "trigger", job: "daily_stats", options }]);
    expect(state.notice?.text).toBe('triggering daily_stats with kwargs {"days":7} and 3 work ID(s)…');
  });

  test("invalid input: Enter stays in the form with the errors; typing clears the field's error", () => {
    let state = apply(start(s), key("T"), typing("{days: 7}"), key("tab"), typing("1,,2"), key("enter"));
    expect(form(state).errors.kwargs).toMatch(/not valid JSON/);
    expect(form(state).errors.workIds).toBe("item 2 of 3 is empty; separate IDs with single commas: 1,2,3");
    expect(form(state).field).toBe("kwargs");
    expect(state.effects).toEqual([]);
    state = apply(state, key("backspace"));
    expect(form(state).kwargs).toBe("{days: 7");
    expect(form(state).errors.kwargs).toBeNull();
    expect(form(state).errors.workIds).not.toBeNull();
  });

  test("Esc on the plan goes back to the form as typed; Esc there closes it", () => {
    let state = apply(start(s), key("T"), typing("5"), key("down"), typing("[1]"), key("enter"));
    expect(form(state).errors.kwargs).toMatch(/received number 5/);
    state = apply(state, key("backspace"), typing("{}"), key("enter"));
    expect(overlay(state).kind).toBe("plan");
    state = apply(state, key("escape"));
    expect(form(state)).toMatchObject({ kwargs: "{}", workIds: "[1]", errors: { kwargs: null, workIds: null } });
    state = apply(state, key("escape"));
    expect(state.overlay).toBeNull();
    expect(state.effects).toEqual([]);
  });

  test("a plan the engine refuses (say, a work ID) shows why; Enter goes back to the form", () => {
    let state = apply(start(s), key("T"), key("tab"), typing("99"), key("enter"));
    const request = (overlay(state) as { request: number }).request;
    state = apply(state, { type: "plan", request, preview: null, error: "work ID 99 is not one of daily_stats's" }, key("enter"));
    expect(form(state).workIds).toBe("99");
  });

  test("the form as drawn: both fields, the cursor, each error under its field", () => {
    const state = apply(start(s), key("T"), typing("[]"), key("tab"), typing("a,"), key("enter"));
    const lines = frameOf(<Dialog overlay={overlay(state)} width={120} height={12} now={NOW} />);
    expect(lines[0]).toBe("Trigger daily_stats with…");
    expect(lines[1]).toMatch(/^kwargs — a JSON object/);
    expect(lines[2]).toBe("› []");
    expect(lines[3]).toBe('  must be a JSON object like {"days": 7}, received an array');
    expect(lines[4]).toMatch(/^work IDs — e\.g\. 1,2,3/);
    expect(lines[5]).toBe("  a,");
    expect(lines[6]).toBe("  item 2 of 2 is empty; separate IDs with single commas: 1,2,3");
    expect(lines.at(-1)).toBe("Tab/↑↓ next field · Enter checks and shows the plan · Esc cancels");
  });

  test("the plan from the form shows what was typed and offers Esc back", () => {
    const o: Overlay = { kind: "plan", job: "daily_stats", request: 1, preview: plan, error: null, scroll: 0, options: { kwargs: { days: 7 }, workIds: [1, 2, 3] }, form: emptyForm("daily_stats") };
    const text = frameOf(<Dialog overlay={o} width={100} height={14} now={NOW} />).join("\n");
    expect(text).toContain('kwargs {"days":7}');
    expect(text).toContain("work IDs as typed: [1,2,3]");
    expect(text).toContain("Enter triggers · Esc back to the form");
  });

  test("typing and erasing in the search still works beside the form", () => {
    const state = apply(start(s), cmd("search"), typing("T"), key("backspace"), typing("q"));
    expect(state.logs.query).toBe("q");
    expect(state.overlay).toBeNull();
  });
});
