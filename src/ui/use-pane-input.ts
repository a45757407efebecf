import { useInput, type Key } from "ink";
import { useCallback } from "react";

/** One key press: what Ink reports for it. */
export interface KeyPress {
  readonly input: string;
  readonly key: Partial<Key>;
}

/** What a pane (or dialog) needs to take keys: whether it has them now, and where they go. */
export interface PaneKeys {
  readonly active: boolean;
  readonly onKeys: (presses: readonly KeyPress[]) => void;
}

/**
 * Keys for the focused pane only: useInput's isActive keeps every other pane deaf, so
 * exactly one handler passes each burst of keys on. What a key means is decided by the
 * reducer, key by key, against the state the previous key left (Tab then j moves in the
 * newly focused pane).
 */
export function usePaneInput(keys: PaneKeys | undefined): void {
  const onKeys = keys?.onKeys;
  // One handler for as long as onKeys is the same: Ink subscribes to stdin again whenever the handler changes, and panes render at every batch.
  const handler = useCallback((input: string, key: Key) => onKeys?.(splitPresses(input, key)), [onKeys]);
  useInput(handler, { isActive: keys?.active ?? false });
}

const NAMED: readonly (keyof Key)[] = ["upArrow", "downArrow", "leftArrow", "rightArrow", "pageUp", "pageDown", "home", "end", "tab", "return", "escape", "backspace", "delete", "ctrl", "meta"];

/**
 * Ink hands keys that arrive in one write (key repeat, a paste, a slow terminal, `jj`
 * sent at once) as one input of several characters; escape sequences it already splits.
 * Each character is a key press of its own.
 */
export function splitPresses(input: string, key: Partial<Key>): KeyPress[] {
  const chars = [...input];
  if (chars.length <= 1 || input.startsWith("\u001b") || NAMED.some((name) => key[name])) return [{ input, key }];
  return chars.map(pressOf);
}

function pressOf(char: string): KeyPress {
  if (char === "\t") return { input: "", key: { tab: true } };
  if (char === "\r" || char === "\n") return { input: "", key: { return: true } };
  if (char === "\u007f" || char === "\b") return { input: "", key: { backspace: true } };
  const code = char.codePointAt(0)!;
  // Ctrl+letter arrives as a control character: Ctrl+C is 0x03.
  if (code < 0x20) return { input: String.fromCharCode(code + 96), key: { ctrl: true } };
  return { input: char, key: { shift: char !== char.toLowerCase() } };
}
