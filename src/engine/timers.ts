import type { Timer, TimerClock } from "../clock.js";

/**
 * The engine's timers (retry backoffs, long-wait warnings), by key, on an injected
 * clock: tests move time instead of waiting for it. Arming a key again replaces its timer.
 */
export class Timers {
  private readonly timers = new Map<string, Timer>();

  constructor(private readonly clock: TimerClock) {}

  /** Calls `fn` at `at` (epoch ms; at once when it is past). */
  at(key: string, at: number, fn: () => void): void {
    this.cancel(key);
    const timer = this.clock.setTimer(() => {
      this.timers.delete(key);
      fn();
    }, Math.max(0, at - this.clock.now()));
    this.timers.set(key, timer);
  }

  cancel(key: string): void {
    const timer = this.timers.get(key);
    if (timer === undefined) return;
    this.clock.clearTimer(timer);
    this.timers.delete(key);
  }

  clear(): void {
    for (const timer of this.timers.values()) this.clock.clearTimer(timer);
    this.timers.clear();
  }
}
