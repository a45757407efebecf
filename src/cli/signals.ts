/**
 * Runs until SIGINT or SIGTERM, then `stop` (a drain); a second signal stops at once.
 * Resolves with the exit code: 0 after SIGTERM, 130 after SIGINT.
 */
export function untilSignal(stop: () => Promise<unknown>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        // Chunks still running are queued again on the next start.
        process.stderr.write(`${signal} again: stopping without waiting\n`);
        process.exit(130);
      }
      stopping = true;
      void stop().then(() => resolve(signal === "SIGINT" ? 130 : 0));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
