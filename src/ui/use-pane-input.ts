import { useInput } from "ink";
import { commandFor, type Command, type KeyContext } from "./key-map.js";

/** What a pane (or dialog) needs to take keys: whether it has them now, and where commands go. */
export interface PaneKeys {
  readonly active: boolean;
  readonly context: KeyContext;
  readonly onCommand: (command: Command) => void;
}

/**
 * Keys for the focused pane only: useInput's isActive keeps every other pane deaf, so
 * exactly one handler turns a key press into a command through the key map.
 */
export function usePaneInput(keys: PaneKeys | undefined): void {
  useInput(
    (input, key) => {
      if (!keys) return;
      const command = commandFor(input, key, keys.context);
      if (command) keys.onCommand(command);
    },
    { isActive: keys?.active ?? false },
  );
}
