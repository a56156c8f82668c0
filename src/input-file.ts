// Reading the files users name (traces, configs, baselines) with a bound: only regular files
// (a device such as /dev/zero or a FIFO never ends, or blocks), at most `maxInputBytes` of them
// (`--max-input-bytes`), valid UTF-8, and strict JSON (strict-json.ts). Every refusal is an
// InputError naming the file.

import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { InputError } from "../model/config.js";
import { JsonError, parseStrictJson } from "./strict-json.js";

/** The default cap: a million-step trace (about 70 MB) fits, and the worst trace under it parses in well under the heap. */
export const DEFAULT_MAX_INPUT_BYTES = 128 * 1024 * 1024;

let maxInputBytes = DEFAULT_MAX_INPUT_BYTES;

/** `--max-input-bytes N`: the cap of every input file read after this call. */
export function setMaxInputBytes(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new InputError(`--max-input-bytes: expected a positive integer, got ${n}`);
  maxInputBytes = n;
}

const CAP_HINT = "(raise it with --max-input-bytes)";

/** The bytes of a regular file, at most the cap. */
export function readInputBytes(file: string): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not hang before we can refuse it.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new InputError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new InputError(`${file}: is a directory, not a file`);
    if (!st.isFile()) throw new InputError(`${file}: not a regular file (devices, FIFOs and sockets are not read)`);
    if (st.size > maxInputBytes) {
      throw new InputError(`${file}: ${st.size} bytes, over the input cap of ${maxInputBytes} bytes ${CAP_HINT}`);
    }
    // Read to the end, not to st.size: the file may grow meanwhile, and the cap still holds.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, maxInputBytes + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
      if (total > maxInputBytes) throw new InputError(`${file}: over the input cap of ${maxInputBytes} bytes ${CAP_HINT}`);
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** A JSON file, read under the cap and parsed strictly. */
export function readInputJson(file: string): unknown {
  const bytes = readInputBytes(file);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new InputError(`${file}: invalid JSON: not UTF-8 text`);
  }
  try {
    return parseStrictJson(text);
  } catch (e) {
    if (e instanceof JsonError) throw new InputError(`${file}: invalid JSON: ${e.message}`);
    throw e;
  }
}
