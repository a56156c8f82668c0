// Progress of a long run on stderr: a live line on a terminal; on a pipe or in CI nothing, unless
// asked for (--progress), then a plain line every few seconds, so that logs stay readable. Each
// engine says what it counts: the search its states, the random engine its runs and steps, the
// proofs their obligations.

import { writeSync } from "node:fs";
import { isatty } from "node:tty";

const PLAIN_EVERY_MS = 5000;

export interface StatusLine {
  update(elapsedMs: number, text: string): void;
  done(): void;
}

/**
 * A status line on file descriptor `fd`, written synchronously: the proofs' thread writes its own
 * while the searching thread writes another. `live` redraws one line in place on a terminal;
 * otherwise (and always for `plainOnly`, a line that shares the terminal with another's live
 * line) a plain line every few seconds, on a pipe only when `forced` (--progress).
 */
export function statusLine(label: string, o: { fd?: number; plainOnly?: boolean; forced?: boolean } = {}): StatusLine {
  const fd = o.fd ?? 2;
  const tty = isatty(fd) && !process.env.CI;
  const live = tty && !o.plainOnly;
  const plain = tty || o.forced === true;
  let lastPlain = 0;
  let shown = false;
  const secs = (ms: number) => `${(ms / 1000).toFixed(0)} s`;
  return {
    update(elapsedMs, text) {
      if (live) {
        writeSync(fd, `\r\x1b[K${label}: ${text}, ${secs(elapsedMs)}`);
        shown = true;
      } else if (plain && elapsedMs - lastPlain >= PLAIN_EVERY_MS) {
        lastPlain = elapsedMs;
        // On a terminal, clear whatever live line another engine left there.
        writeSync(fd, `${tty ? "\r\x1b[K" : ""}${label}: ${text}, ${secs(elapsedMs)}\n`);
      }
    },
    done() {
      if (shown) writeSync(fd, "\r\x1b[K");
    },
  };
}

/** "N per second" of a count over elapsed time. */
export function rate(n: number, elapsedMs: number): number {
  return Math.round(n / Math.max(elapsedMs / 1000, 1e-3));
}

export function rssMiB(): number {
  return Math.round(process.memoryUsage().rss / 2 ** 20);
}
