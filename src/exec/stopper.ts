/**
 * The smallest abort signal tinypool accepts (an event target with one listener):
 * a task carries one in case it must be stopped, and a full AbortController per
 * chunk is measurable at thousands of chunks a second.
 */
export class Stopper {
  aborted = false;
  private listener: (() => void) | null = null;

  addEventListener(_name: "abort", listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(): void {
    this.listener = null;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.listener?.();
  }
}
