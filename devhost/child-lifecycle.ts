/** The life of a process the local stack starts: saying it is ready, and stopping cleanly. */

/** Tells the stack (over IPC) that the process is ready; started by hand, prints it instead. */
export function announceReady(message: Record<string, unknown>): void {
  const ready = { ready: true, ...message };
  if (process.send) process.send(ready);
  else console.log(JSON.stringify(ready));
}

/**
 * Closes and exits on Ctrl-C, SIGTERM, or when the stack that started the process goes away
 * (its IPC channel closes, even if it was killed without a word); exits anyway after `graceMs`.
 * Started by the stack, a process leaves a terminal's Ctrl-C (which reaches every process of
 * the stack at once) to the stack, which stops its children in order: the Functions host before
 * what it depends on.
 */
export function stopOnSignals(close: () => Promise<void>, graceMs = 5000): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), graceMs).unref();
  };
  process.on("SIGINT", process.send ? () => undefined : stop);
  process.on("SIGTERM", stop);
  process.on("disconnect", stop);
}
