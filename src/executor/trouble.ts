import { errorMessage } from "../errors.js";

/**
 * Says once when something starts failing (with why) and once when it works again, not
 * at every try: a store that cannot be written is tried again every second.
 */
export class Trouble {
  /** What fails now. */
  private readonly failing = new Set<string>();

  constructor(private readonly warn: (message: string) => void) {}

  /** `what` was tried: `error` is why it failed, or null when it worked. */
  report(what: string, error: unknown): void {
    const failing = this.failing.has(what);
    if (error === null) {
      if (failing) this.warn(`${what} works again`);
      this.failing.delete(what);
    } else if (!failing) {
      this.failing.add(what);
      this.warn(`${what} failed: ${errorMessage(error)}; stau keeps trying`);
    }
  }
}
