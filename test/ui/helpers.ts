import type { Key } from "ink";
import type { Action } from "../../src/ui/actions.js";
import type { ConsoleSnapshot } from "../../src/console/contract.js";
import type { Command, CommandName } from "../../src/ui/key-map.js";
import { initialState, reduce } from "../../src/ui/reducer.js";
import type { ConsoleState } from "../../src/ui/state.js";
import { NOW } from "./fixtures.js";

const NO_KEY: Key = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
  return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
  super: false, hyper: false, capsLock: false, numLock: false,
};

/** What Ink's useInput passes for a key name as the key map writes it ("up", "ctrl+c", "R"...). */
export function press(name: string): [string, Key] {
  const named: Record<string, Partial<Key>> = {
    up: { upArrow: true }, down: { downArrow: true }, pageup: { pageUp: true }, pagedown: { pageDown: true }, home: { home: true }, end: { end: true },
    tab: { tab: true }, "shift+tab": { tab: true, shift: true }, enter: { return: true }, escape: { escape: true, meta: true }, backspace: { backspace: true },
  };
  if (name === "ctrl+c") return ["c", { ...NO_KEY, ctrl: true }];
  if (named[name]) return ["", { ...NO_KEY, ...named[name] }];
  return [name, { ...NO_KEY, shift: /[A-Z]/.test(name) }];
}

export const cmd = (type: Exclude<CommandName, "search-type">): Action => ({ type: "command", command: { type } as Command });
export const typed = (text: string): Action => ({ type: "command", command: { type: "search-type", text } });

/** The state after `actions`, starting from a fresh console on `snapshot`. */
export function start(snapshot: ConsoleSnapshot, size = { rows: 40, columns: 120 }): ConsoleState {
  return initialState(snapshot, size, NOW);
}

export function apply(state: ConsoleState, ...actions: Action[]): ConsoleState {
  return actions.reduce(reduce, state);
}
