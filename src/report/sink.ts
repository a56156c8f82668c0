// Where renderers put their text: an Emit takes it a piece at a time, so that a million-step
// trace is written as it is rendered instead of being built as one string first (a string that
// V8 refuses past 512 MB, and memory that grows with the trace).

import { writeSync } from "node:fs";

const SLEEP = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `text` to `fd` before returning. A pipe to a slow reader is non-blocking in Node
 * (EAGAIN when full): we wait for it rather than queue the output in memory, as
 * process.stdout.write would, or lose it at process.exit.
 */
function writeAllSync(fd: number, text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(SLEEP, 0, 0, 1);
    }
  }
}

export type Emit = (text: string) => void;

/** The whole text of a renderer, as one string: for small outputs and tests. */
export function collect(render: (emit: Emit) => void): string {
  const parts: string[] = [];
  render((t) => parts.push(t));
  return parts.join("");
}

const CHUNK = 1 << 16;

/** An Emit that writes to stdout (fd 1), or to an open file descriptor, in 64 KiB chunks; call flush at the end. */
export function bufferedSink(fd?: number): { emit: Emit; flush: () => void } {
  let pending: string[] = [];
  let size = 0;
  const flush = () => {
    if (size === 0) return;
    const text = pending.join("");
    writeAllSync(fd ?? 1, text);
    pending = [];
    size = 0;
  };
  return {
    emit: (t) => {
      pending.push(t);
      size += t.length;
      if (size >= CHUNK) flush();
    },
    flush,
  };
}
