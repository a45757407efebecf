/**
 * Runs until SIGINT or SIGTERM, or until the instance fails, then `stop` (a drain); a
 * second signal stops at once. Resolves with the exit code: 0 after SIGTERM, 130 after
 * SIGINT, 1 when the instance failed (so a supervisor restarts it).
 */
export function untilStopped(stop: () => Promise<unknown>, failed: Promise<Error>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stopWith = (code: number) => {
      stopping = true;
      void stop().then(() => resolve(code));
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        // Chunks still running are queued again on the next start.
        process.stderr.write(`${signal} again: stopping without waiting\n`);
        process.exit(130);
      }
      stopWith(signal === "SIGINT" ? 130 : 0);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    void failed.then(() => !stopping && stopWith(1));
  });
}
