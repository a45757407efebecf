/** Time, injected so schedules, backoff and freshness can be tested at exact instants. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
