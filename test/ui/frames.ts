import { render } from "ink-testing-library";
import type { ReactElement } from "react";

/** Frame text without styling, so assertions read what a colorless terminal shows. */
export const plain = (frame: string | undefined) => (frame ?? "").replace(/\u001b\[[0-9;]*m/g, "");

/** Renders once and returns the frame's lines. */
export function frameOf(element: ReactElement): string[] {
  const app = render(element);
  const lines = plain(app.lastFrame()).split("\n");
  app.unmount();
  return lines;
}

/** Waits for pending promises and timers of 0 ms (controller answers, re-renders). */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
