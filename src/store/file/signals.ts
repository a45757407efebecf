/**
 * Notifications inside one process, as LISTEN/NOTIFY gives them between processes:
 * delivered on a later turn (never inside the write that caused them), and the same
 * notification sent many times in one turn arrives once.
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
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.queued;
      this.queued = new Map();
      for (const [channel, payload] of batch.values()) for (const listener of this.listeners.get(channel) ?? []) listener(payload);
    });
  }
}
