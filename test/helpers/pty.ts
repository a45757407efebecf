import { spawn, type IPty } from "node-pty";
import { afterEach } from "vitest";
import xterm from "@xterm/headless";
import { STAU_BIN } from "./project.js";

/**
 * stau in a real pseudo-terminal, with @xterm/headless as the screen: what a person
 * would see, keys as a person types them, resizes as a window manager sends them.
 */
export interface PtyStau {
  readonly pty: IPty;
  /** Every byte stau wrote, for checks on escape sequences (alternate screen, cursor). */
  raw(): string;
  /** The visible screen as text, one line per row, trailing spaces trimmed. */
  screen(): string;
  /** Which buffer is showing: "alternate" while the console runs, "normal" after. */
  bufferType(): string;
  press(keys: string): void;
  resize(cols: number, rows: number): void;
  waitFor(check: (screen: string) => boolean, what: string, ms?: number): Promise<string>;
  exited(): Promise<number>;
}

export const KEYS = { up: "\x1b[A", down: "\x1b[B", enter: "\r", escape: "\x1b", tab: "\t", ctrlC: "\x03" } as const;

export function startPty(cwd: string, args: string[], size = { cols: 120, rows: 36 }, env: Record<string, string> = {}): PtyStau {
  const term = new xterm.Terminal({ cols: size.cols, rows: size.rows, allowProposedApi: true });
  const { CI: _ci, ...rest } = process.env;
  const pty = spawn(process.execPath, [STAU_BIN, ...args], { cwd, cols: size.cols, rows: size.rows, name: "xterm-256color", env: { ...rest, ...env } as Record<string, string> });
  let raw = "";
  let pending = Promise.resolve();
  pty.onData((data) => {
    raw += data;
    pending = pending.then(() => new Promise<void>((resolve) => term.write(data, resolve)));
  });
  const exit = new Promise<number>((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
  const screen = () => {
    const buffer = term.buffer.active;
    const lines: string[] = [];
    for (let row = 0; row < term.rows; row++) lines.push(buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? "");
    return lines.join("\n");
  };
  return {
    pty,
    raw: () => raw,
    screen,
    bufferType: () => term.buffer.active.type,
    press: (keys) => pty.write(keys),
    resize(cols, rows) {
      pty.resize(cols, rows);
      term.resize(cols, rows);
    },
    async waitFor(check, what, ms = 20_000) {
      const end = Date.now() + ms;
      for (;;) {
        await pending;
        const text = screen();
        if (check(text)) return text;
        if (Date.now() > end) throw new Error(`gave up waiting for ${what}; the screen shows:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    exited: () => exit,
  };
}

/** A list for the pseudo-terminals a test file starts: each is killed after its test (one already gone is fine). */
export function ptysKilledAfterEach(): PtyStau[] {
  const open: PtyStau[] = [];
  afterEach(() => {
    for (const pty of open.splice(0)) {
      try {
        pty.pty.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  });
  return open;
}

/** The screen line of the selected row (the one marked ›), or "". */
export function selectedLine(screen: string): string {
  return screen.split("\n").find((line) => line.includes("›")) ?? "";
}
