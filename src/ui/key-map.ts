import type { Key } from "ink";
import type { ConsoleState, PaneId } from "./state.js";

// Key bindings are data: the same table maps keys to commands and renders the help
// overlay, so the help can never disagree with what the keys do.

export type CommandName =
  | "up" | "down" | "page-up" | "page-down" | "top" | "bottom"
  | "next-pane" | "prev-pane"
  | "trigger" | "trigger-form" | "retry" | "retry-all" | "cancel-run"
  | "open-error" | "logs-selected" | "logs-all" | "follow" | "search" | "wrap" | "clear-search"
  | "graph" | "heatmap" | "pause" | "help" | "quit" | "interrupt"
  | "left" | "right" | "shade"
  | "confirm" | "close"
  | "search-commit" | "search-cancel" | "search-erase" | "search-type"
  | "next-field" | "prev-field" | "form-erase" | "form-type";

/** Commands that carry the text typed. */
type TextCommand = "search-type" | "form-type";
const isText = (command: CommandName): command is TextCommand => command === "search-type" || command === "form-type";

/** A command the reducer understands; only typing (into the search or a form) carries text. */
export type Command = { readonly type: Exclude<CommandName, TextCommand> } | { readonly type: TextCommand; readonly text: string };

/** Which table applies: dialogs, the trigger form and the search prompt take keys before the panes do. */
export type InputMode = "normal" | "overlay" | "form" | "search" | "heatmap";

export interface KeyBinding {
  readonly command: CommandName;
  /** Key names as keyName() produces them; "text" stands for any printable input. */
  readonly keys: readonly string[];
  readonly description: string;
  /** Only when this pane has focus (checked before bindings without a pane). */
  readonly pane?: PaneId;
  /** Default "normal". */
  readonly mode?: InputMode;
}

/** Every key binding of the console. */
export const KEY_MAP: readonly KeyBinding[] = [
  { command: "up", keys: ["up", "k"], description: "move up (in Logs: scroll up, pauses follow)" },
  { command: "down", keys: ["down", "j"], description: "move down" },
  { command: "page-up", keys: ["pageup"], description: "page up" },
  { command: "page-down", keys: ["pagedown"], description: "page down" },
  { command: "top", keys: ["home"], description: "first row" },
  { command: "bottom", keys: ["end", "G"], description: "last row (in Logs: follow again)" },
  { command: "next-pane", keys: ["tab"], description: "next pane" },
  { command: "prev-pane", keys: ["shift+tab"], description: "previous pane" },
  { command: "trigger", keys: ["t"], description: "trigger the selected job (shows the plan first)" },
  { command: "trigger-form", keys: ["T"], description: "trigger the selected job with kwargs and work IDs typed in a form" },
  { command: "retry", keys: ["r"], description: "retry the selected failed run (its failed chunks only)" },
  { command: "retry-all", keys: ["R"], description: "retry every failed run" },
  { command: "cancel-run", keys: ["c"], description: "cancel the selected run (asks first)" },
  { command: "open-error", keys: ["enter"], description: "show the whole error and stack", pane: "failures" },
  { command: "logs-selected", keys: ["l", "enter"], description: "logs of the selected job" },
  { command: "logs-all", keys: ["a"], description: "logs of all jobs, interleaved" },
  { command: "follow", keys: ["f"], description: "follow new log lines on/off" },
  { command: "search", keys: ["/"], description: "search the logs (filters and highlights)" },
  { command: "clear-search", keys: ["escape"], description: "clear the log search" },
  { command: "wrap", keys: ["w"], description: "wrap long log lines on/off" },
  { command: "graph", keys: ["g"], description: "dependency graph of the selected job, with freshness" },
  { command: "heatmap", keys: ["h"], description: "heatmap of the selected job's latest run: its work IDs by state and duration" },
  { command: "pause", keys: ["p"], description: "pause/resume the scheduler" },
  { command: "help", keys: ["?"], description: "this help" },
  { command: "quit", keys: ["q"], description: "quit: drains running chunks (asks when some run)" },
  { command: "interrupt", keys: ["ctrl+c"], description: "quit now, draining like SIGTERM; twice forces" },
  { command: "up", keys: ["up", "k"], description: "scroll up", mode: "overlay" },
  { command: "down", keys: ["down", "j"], description: "scroll down", mode: "overlay" },
  { command: "confirm", keys: ["enter", "y"], description: "confirm (trigger, cancel, quit)", mode: "overlay" },
  { command: "close", keys: ["escape", "n", "q", "?"], description: "close / do not confirm", mode: "overlay" },
  { command: "interrupt", keys: ["ctrl+c"], description: "quit now; twice forces", mode: "overlay" },
  { command: "left", keys: ["left", "h"], description: "previous work ID", mode: "heatmap" },
  { command: "right", keys: ["right", "l"], description: "next work ID", mode: "heatmap" },
  { command: "up", keys: ["up", "k"], description: "a row up", mode: "heatmap" },
  { command: "down", keys: ["down", "j"], description: "a row down", mode: "heatmap" },
  { command: "page-up", keys: ["pageup"], description: "a page up", mode: "heatmap" },
  { command: "page-down", keys: ["pagedown"], description: "a page down", mode: "heatmap" },
  { command: "top", keys: ["home"], description: "first work ID", mode: "heatmap" },
  { command: "bottom", keys: ["end", "G"], description: "last work ID", mode: "heatmap" },
  { command: "confirm", keys: ["enter"], description: "the log of the chunk under the cursor", mode: "heatmap" },
  { command: "shade", keys: ["m"], description: "shade done IDs by duration or by age", mode: "heatmap" },
  { command: "close", keys: ["escape", "q"], description: "close the heatmap", mode: "heatmap" },
  { command: "interrupt", keys: ["ctrl+c"], description: "quit now; twice forces", mode: "heatmap" },
  { command: "confirm", keys: ["enter"], description: "check the fields and show the plan", mode: "form" },
  { command: "close", keys: ["escape"], description: "cancel the trigger", mode: "form" },
  { command: "next-field", keys: ["tab", "down"], description: "next field", mode: "form" },
  { command: "prev-field", keys: ["shift+tab", "up"], description: "previous field", mode: "form" },
  { command: "form-erase", keys: ["backspace"], description: "delete a character", mode: "form" },
  { command: "interrupt", keys: ["ctrl+c"], description: "quit now; twice forces", mode: "form" },
  { command: "form-type", keys: ["text"], description: "type into the field (a paste works too)", mode: "form" },
  { command: "search-commit", keys: ["enter"], description: "keep the search", mode: "search" },
  { command: "search-cancel", keys: ["escape"], description: "drop the search", mode: "search" },
  { command: "search-erase", keys: ["backspace"], description: "delete a character", mode: "search" },
  { command: "interrupt", keys: ["ctrl+c"], description: "quit now; twice forces", mode: "search" },
  { command: "search-type", keys: ["text"], description: "type the search text", mode: "search" },
];

/** A stable name for a key press, or null for presses no binding can mean (Alt/Ctrl combos). */
export function keyName(input: string, key: Partial<Key>): string | null {
  if (key.ctrl && input === "c") return "ctrl+c";
  if (key.upArrow) return "up";
  if (key.downArrow) return "down";
  if (key.leftArrow) return "left";
  if (key.rightArrow) return "right";
  if (key.pageUp) return "pageup";
  if (key.pageDown) return "pagedown";
  if (key.home) return "home";
  if (key.end) return "end";
  if (key.tab) return key.shift ? "shift+tab" : "tab";
  if (key.return) return "enter";
  if (key.escape) return "escape";
  if (key.backspace || key.delete) return "backspace";
  if (key.ctrl || key.meta || input === "") return null;
  return input;
}

/** Where keys go right now. */
export interface KeyContext {
  readonly focus: PaneId;
  readonly mode: InputMode;
}

/** The key context of a state: a dialog, then the search prompt, take keys before the panes. */
export function keyContext(state: Pick<ConsoleState, "focus" | "overlay" | "logs">): KeyContext {
  const kind = state.overlay?.kind;
  const mode = kind ? (kind === "form" || kind === "heatmap" ? kind : "overlay") : state.logs.editing ? "search" : "normal";
  return { focus: state.focus, mode };
}

/** The command for a raw Ink key press (useInput's arguments), or null when none. */
export function commandFor(input: string, key: Partial<Key>, context: KeyContext, map: readonly KeyBinding[] = KEY_MAP): Command | null {
  const name = keyName(input, key);
  if (name === null) return null;
  const inMode = map.filter((b) => (b.mode ?? "normal") === context.mode);
  const hit = inMode.find((b) => b.pane === context.focus && b.keys.includes(name)) ?? inMode.find((b) => b.pane === undefined && b.keys.includes(name));
  if (hit) return isText(hit.command) ? { type: hit.command, text: input } : { type: hit.command };
  // A named key (arrows, Tab...) is never text; a printable one is, where "text" is bound.
  const printable = name === input && !/[\u0000-\u001f\u007f]/.test(input);
  const text = printable ? inMode.find((b) => b.keys.includes("text"))?.command : undefined;
  return text !== undefined && isText(text) ? { type: text, text: input } : null;
}

const KEY_LABELS: Record<string, string> = {
  up: "↑", down: "↓", left: "←", right: "→", pageup: "PgUp", pagedown: "PgDn", home: "Home", end: "End", tab: "Tab", "shift+tab": "Shift+Tab",
  enter: "Enter", escape: "Esc", backspace: "Backspace", "ctrl+c": "Ctrl+C", text: "any text",
};

const SECTIONS: readonly { title: string; where: (b: KeyBinding) => boolean }[] = [
  { title: "Everywhere", where: (b) => (b.mode ?? "normal") === "normal" && !b.pane },
  { title: "In a pane", where: (b) => (b.mode ?? "normal") === "normal" && !!b.pane },
  { title: "In a dialog", where: (b) => b.mode === "overlay" },
  { title: "In the trigger form (T)", where: (b) => b.mode === "form" },
  { title: "In the heatmap (h)", where: (b) => b.mode === "heatmap" },
  { title: "While typing a search", where: (b) => b.mode === "search" },
];

/** The help overlay's text, generated from the key map. */
export function helpLines(map: readonly KeyBinding[] = KEY_MAP): string[] {
  const label = (b: KeyBinding) => b.keys.map((k) => KEY_LABELS[k] ?? k).join(" ");
  const width = Math.max(...map.map((b) => label(b).length));
  const lines: string[] = [];
  for (const section of SECTIONS) {
    const bindings = map.filter(section.where);
    if (bindings.length === 0) continue;
    if (lines.length > 0) lines.push("");
    lines.push(section.title);
    for (const b of bindings) lines.push(`  ${label(b).padEnd(width)}  ${b.description}${b.pane ? ` (${b.pane})` : ""}`);
  }
  return lines;
}
