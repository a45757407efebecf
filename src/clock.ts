/** Time, injected so schedules, backoff and freshness can be tested at exact instants. */
export interface Clock {
  now(): number;
}

/** A clock that can also wake its owner later: retry backoffs and long-wait warnings run on it. */
export interface TimerClock extends Clock {
  setTimer(fn: () => void, ms: number): Timer;
  clearTimer(timer: Timer): void;
}

/** Opaque handle of a timer set through a TimerClock. */
export type Timer = { readonly __timer: true };

export const systemClock: TimerClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms) as unknown as Timer,
  clearTimer: (timer) => clearTimeout(timer as unknown as NodeJS.Timeout),
};
