// Progress of a long search on stderr: a live line on a terminal; on a pipe or in CI nothing,
// unless asked for (--progress), then a plain line every few seconds, so that logs stay readable.

export interface Progress {
  states: number;
  transitions?: number;
  queue?: number;
  depth: number;
  elapsedMs: number;
}

const PLAIN_EVERY_MS = 5000;

/**
 * On a terminal, one line rewritten in place; on a pipe nothing, unless `forced` (--progress),
 * then a plain line every few seconds.
 */
export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr, forced = false): {
  update: (p: Progress) => void;
  done: () => void;
} {
  const live = stream.isTTY === true && !process.env.CI;
  let lastPlain = 0;
  let shown = false;
  const line = (p: Progress) => {
    const rate = Math.round(p.states / Math.max(p.elapsedMs / 1000, 1e-3));
    const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
    const queue = p.queue === undefined ? "" : `, queue ${p.queue}`;
    return `${label}: ${p.states} states${queue}, depth ${p.depth}, ${rate} states/s, ${rss} MiB, ${(p.elapsedMs / 1000).toFixed(0)} s`;
  };
  return {
    update(p) {
      if (live) {
        stream.write(`\r\x1b[K${line(p)}`);
        shown = true;
      } else if (forced && p.elapsedMs - lastPlain >= PLAIN_EVERY_MS) {
        lastPlain = p.elapsedMs;
        stream.write(`${line(p)}\n`);
      }
    },
    done() {
      if (shown) stream.write("\r\x1b[K");
    },
  };
}
