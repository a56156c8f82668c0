// Where renderers put their text: an Emit takes it a piece at a time, so that a million-step
// trace is written as it is rendered instead of being built as one string first (a string that
// V8 refuses past 512 MB, and memory that grows with the trace).

import { writeSync } from "node:fs";

export type Emit = (text: string) => void;

/** The whole text of a renderer, as one string: for small outputs and tests. */
export function collect(render: (emit: Emit) => void): string {
  const parts: string[] = [];
  render((t) => parts.push(t));
  return parts.join("");
}

const CHUNK = 1 << 16;

/** An Emit that writes to stdout, or to an open file descriptor, in 64 KiB chunks; call flush at the end. */
export function bufferedSink(fd?: number): { emit: Emit; flush: () => void } {
  let pending: string[] = [];
  let size = 0;
  const flush = () => {
    if (size === 0) return;
    const text = pending.join("");
    if (fd === undefined) process.stdout.write(text);
    else writeSync(fd, text);
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
