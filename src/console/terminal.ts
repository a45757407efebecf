// The console draws on the alternate screen; whatever happens — quit, crash, SIGTERM —
// the user's terminal must come back as it was: main screen, cursor visible, no raw mode.

const ENTER = "\x1b[?1049h\x1b[H\x1b[?25l";
const LEAVE = "\x1b[?25h\x1b[?1049l";

let active = false;

export function enterAlternateScreen(out: NodeJS.WriteStream = process.stdout): void {
  if (active) return;
  active = true;
  out.write(ENTER);
  // Last resort: a plain exit (process.exit from anywhere) still restores.
  process.once("exit", () => restoreTerminal(out));
}

export function restoreTerminal(out: NodeJS.WriteStream = process.stdout): void {
  if (!active) return;
  active = false;
  if (process.stdin.isTTY && process.stdin.isRaw) process.stdin.setRawMode(false);
  out.write(LEAVE);
}
