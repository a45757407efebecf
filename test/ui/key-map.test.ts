import { describe, expect, test } from "vitest";
import { commandFor, helpLines, KEY_MAP, keyContext, type CommandName } from "../../src/ui/key-map.js";
import { start } from "./helpers.js";
import { press } from "./helpers.js";
import { snapshot } from "./fixtures.js";

const normal = { focus: "jobs", mode: "normal" } as const;
const type = (name: string, context: Parameters<typeof commandFor>[2] = normal) => commandFor(...press(name), context)?.type ?? null;

describe("commandFor", () => {
  test.each([
    ["up", "up"], ["k", "up"], ["down", "down"], ["j", "down"], ["pageup", "page-up"], ["pagedown", "page-down"], ["home", "top"], ["end", "bottom"], ["G", "bottom"],
    ["tab", "next-pane"], ["shift+tab", "prev-pane"], ["t", "trigger"], ["T", "trigger-form"], ["r", "retry"], ["R", "retry-all"], ["c", "cancel-run"],
    ["l", "logs-selected"], ["enter", "logs-selected"], ["a", "logs-all"], ["f", "follow"], ["/", "search"], ["w", "wrap"], ["escape", "clear-search"],
    ["g", "graph"], ["p", "pause"], ["?", "help"], ["q", "quit"], ["ctrl+c", "interrupt"],
  ] as [string, CommandName][])("%s → %s", (key, command) => {
    expect(type(key)).toBe(command);
  });

  test("keys nobody bound, and Ctrl/Alt combinations, are no command", () => {
    expect(type("x")).toBeNull();
    expect(commandFor("t", { ctrl: true }, normal)).toBeNull();
    expect(commandFor("t", { meta: true }, normal)).toBeNull();
  });

  test("a pane's own binding wins while it has focus: Enter opens the error in Failures", () => {
    expect(type("enter", { focus: "failures", mode: "normal" })).toBe("open-error");
    expect(type("enter", { focus: "running", mode: "normal" })).toBe("logs-selected");
  });

  test("in a dialog only its keys work, and Ctrl+C still does", () => {
    const overlay = { focus: "jobs", mode: "overlay" } as const;
    expect(type("enter", overlay)).toBe("confirm");
    expect(type("y", overlay)).toBe("confirm");
    expect(type("escape", overlay)).toBe("close");
    expect(type("j", overlay)).toBe("down");
    expect(type("t", overlay)).toBeNull();
    expect(type("ctrl+c", overlay)).toBe("interrupt");
  });

  test("while typing a search, letters are text, not commands", () => {
    const search = { focus: "logs", mode: "search" } as const;
    expect(commandFor(...press("q"), search)).toEqual({ type: "search-type", text: "q" });
    expect(commandFor(...press("R"), search)).toEqual({ type: "search-type", text: "R" });
    expect(type("enter", search)).toBe("search-commit");
    expect(type("escape", search)).toBe("search-cancel");
    expect(type("backspace", search)).toBe("search-erase");
    expect(type("up", search)).toBeNull();
    expect(type("ctrl+c", search)).toBe("interrupt");
  });

  test("in the trigger form, letters are text; Tab and arrows move between the fields", () => {
    const form = { focus: "jobs", mode: "form" } as const;
    expect(commandFor(...press("q"), form)).toEqual({ type: "form-type", text: "q" });
    expect(commandFor(...press("?"), form)).toEqual({ type: "form-type", text: "?" });
    expect(commandFor(...press("{"), form)).toEqual({ type: "form-type", text: "{" });
    expect(type("tab", form)).toBe("next-field");
    expect(type("up", form)).toBe("prev-field");
    expect(type("enter", form)).toBe("confirm");
    expect(type("escape", form)).toBe("close");
    expect(type("backspace", form)).toBe("form-erase");
    expect(type("ctrl+c", form)).toBe("interrupt");
  });

  test("every binding's keys reach its command in its mode and pane", () => {
    for (const binding of KEY_MAP) {
      for (const key of binding.keys.filter((k) => k !== "text")) {
        const context = { focus: binding.pane ?? "jobs", mode: binding.mode ?? "normal" } as const;
        expect(type(key, context), `${key} in ${context.mode}/${context.focus}`).toBe(binding.command);
      }
    }
  });

  test("keyContext follows dialogs and the search prompt", () => {
    const state = start(snapshot());
    expect(keyContext(state)).toEqual({ focus: "jobs", mode: "normal" });
    expect(keyContext({ ...state, overlay: { kind: "help", scroll: 0 } }).mode).toBe("overlay");
    expect(keyContext({ ...state, logs: { ...state.logs, editing: true } }).mode).toBe("search");
    expect(keyContext({ ...state, overlay: { kind: "form", form: { job: "a", kwargs: "", workIds: "", field: "kwargs", errors: { kwargs: null, workIds: null } }, scroll: 0 } }).mode).toBe("form");
  });
});

describe("help overlay", () => {
  test("is generated from the key map: every binding's description and keys appear", () => {
    const text = helpLines().join("\n");
    for (const binding of KEY_MAP) expect(text).toContain(binding.description);
    expect(text).toContain("Ctrl+C");
    expect(text).toContain("Shift+Tab");
  });

  test("a binding added to the map shows up in the help", () => {
    const lines = helpLines([...KEY_MAP, { command: "help", keys: ["F1"], description: "a brand new binding" }]);
    expect(lines.some((l) => l.includes("F1") && l.includes("a brand new binding"))).toBe(true);
  });
});
