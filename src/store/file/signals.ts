/**
 * Notifications inside one process, as LISTEN/NOTIFY gives them between processes:
 * never inside the write that caused them, and the same notification sent many times
 * before delivery arrives once.
 *
 * Delivered as a microtask, once the code that wrote has returned: still in the same
 * turn of the event loop, so what a listener writes in answer (an executor's claim of
 * the chunks a trigger made pending) joins the journal's group commit that is about to
 * go to disk, instead of waiting for a write of its own.
 */
export class LocalSignals<Channel extends string> {
  private readonly listeners = new Map<Channel, Set<(payload: string) => void>>();
  private queued = new Map<string, [Channel, string]>();
  private scheduled = false;

  listen(channel: Channel, listener: (payload: string) => void): () => void {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  notify(channel: Channel, payload = ""): void {
    this.queued.set(`${channel}\u0000${payload}`, [channel, payload]);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const batch = this.queued;
      this.queued = new Map();
      for (const [channel, payload] of batch.values()) for (const listener of this.listeners.get(channel) ?? []) listener(payload);
    });
  }
}
