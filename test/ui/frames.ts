import { render } from "ink-testing-library";
import type { ReactElement } from "react";
import { vi } from "vitest";

/** Frame text without styling, so assertions read what a colorless terminal shows. */
export const plain = (frame: string | undefined) => (frame ?? "").replace(/\u001b\[[0-9;]*m/g, "");

/** Renders once and returns the frame's lines. */
export function frameOf(element: ReactElement): string[] {
  const app = render(element);
  const lines = plain(app.lastFrame()).split("\n");
  app.unmount();
  return lines;
}

/**
 * Resolves once `check` (assertions on a frame or the store) passes. Ink draws after
 * React commits and, outside debug mode, after its frame throttle; controller answers
 * and event batches land on timers of their own. Looking again until the frame shows
 * what the test expects waits exactly as long as that takes, where a fixed sleep guesses;
 * after `timeout` the last failed assertion is the test's error.
 */
export function eventually(check: () => void, timeout = 2000): Promise<void> {
  return vi.waitFor(check, { timeout, interval: 5 });
}
