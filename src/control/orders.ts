import type { EventBus, StauEvents } from "../events.js";
import type { ControlRequest } from "./protocol.js";

export type OrderHandler = (request: ControlRequest) => Promise<unknown>;

/**
 * How orders (trigger, retry, cancel, status…) reach the instance that orchestrates:
 * over the control socket in its data directory, or through the shared database's
 * commands table. Commands call; the orchestrating instance serves.
 */
export interface OrderChannel {
  /** Where orders reach the instance, for people (the socket's path), or null through a database. */
  readonly address: string | null;
  /** Sends one order and returns the orchestrator's answer (its error thrown again here). */
  call<T = unknown>(request: ControlRequest, timeoutMs?: number): Promise<T>;
  /**
   * Takes orders as the instance `by` until the returned function is called; `warn`
   * hears what went wrong meanwhile. With `events`, callers may follow that stream.
   */
  serve(handle: OrderHandler, options: { readonly by: string; readonly warn: (message: string) => void; readonly events?: EventBus }): Promise<() => Promise<void>>;
  /**
   * Follows the serving instance's events (a console attached to it), until the returned
   * function is called or the instance goes (`ended`, with "stopping" when it stopped as asked). Absent where orders travel through
   * a database: there every instance shows every instance's work itself.
   */
  follow?(listener: <E extends keyof StauEvents>(name: E, payload: StauEvents[E]) => void, ended: (why: string) => void): Promise<() => void>;
}
