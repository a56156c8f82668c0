// SIGINT and SIGTERM. A command that can stop early and still report (check) registers a
// handler: the first signal calls it, and the command exits 130 / 143 once it has written what it
// found. Without a handler, or on a second signal, the process exits at once with that code;
// process.exit runs the writer's exit hook, so no temporary file survives either way.

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof EXIT_CODES;

let handler: ((signal: StopSignal) => void) | undefined;
let received: StopSignal | undefined;

/** The shell's exit code for a process ended by this signal (128 + its number). */
export function signalExitCode(signal: StopSignal): number {
  return EXIT_CODES[signal];
}

/** The signal received so far, if any. */
export function interrupted(): StopSignal | undefined {
  return received;
}

export function installSignalHandlers(): void {
  for (const signal of Object.keys(EXIT_CODES) as StopSignal[]) {
    process.on(signal, () => {
      if (received === undefined && handler) {
        received = signal;
        process.stderr.write(`\npkvm-check: ${signal}: stopping, writing what was found (${signal} again to quit at once)\n`);
        handler(signal);
        return;
      }
      process.stderr.write(`\npkvm-check: ${signal}: stopped\n`);
      process.exit(signalExitCode(signal));
    });
  }
}

/** While the returned function is not called, the first signal calls `h` instead of exiting. */
export function onInterrupt(h: (signal: StopSignal) => void): () => void {
  handler = h;
  return () => {
    if (handler === h) handler = undefined;
  };
}
