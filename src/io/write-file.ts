// Every file pkvm-check writes goes through here, so that none is ever half-written, none
// replaces a file through a symbolic link, and no temporary file outlives the process:
//
//   1. the text is written to a temporary file in the destination's directory (O_CREAT|O_EXCL,
//      a random name, O_NOFOLLOW), then fsync'ed: a full disk fails here, before the destination
//      is touched;
//   2. the destination is lstat'ed: anything but a regular file (a link, a directory, a device)
//      is refused; the destination itself is never opened for writing;
//   3. the temporary file is renamed over the destination (rename replaces a link planted in
//      between, it does not follow it), or linked to a name that must not exist yet;
//   4. the temporary file is removed on every error, at exit, and on SIGINT/SIGTERM
//      (src/io/interrupt.ts exits through process.exit, which runs the exit hook below).
//
// Temporary files are named `.<name>.pkvm-<pid>-<random>.tmp`: the exit hook also sweeps the
// directories written to for this process's names, which removes those of a worker thread that
// was terminated in the middle of a write (a terminated thread runs no hook of its own).

import { randomBytes } from "node:crypto";
import {
  closeSync, constants, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { isMainThread } from "node:worker_threads";
import { bufferedSink, type Emit } from "../report/sink.js";

/** A file could not be written: the message names it and says why (an errno code). */
export class WriteError extends Error {
  override name = "WriteError";
  constructor(readonly file: string, readonly why: string) {
    super(`${file}: cannot write: ${why}`);
  }
}

const temps = new Set<string>();
const dirs = new Set<string>();
const TEMP = new RegExp(`^\\..*\\.pkvm-${process.pid}-[0-9a-f]{12}\\.tmp$`);

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/** Removes every temporary file of this process: those recorded, and those of terminated threads. */
export function removeTemps(): void {
  for (const t of temps) unlinkQuietly(t);
  temps.clear();
  for (const d of dirs) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (TEMP.test(n)) unlinkQuietly(join(d, n));
  }
}

/** A directory this process writes into (also from worker threads): swept at exit. */
export function watchDir(dir: string): void {
  dirs.add(dir);
}

if (isMainThread) process.on("exit", removeTemps);

/** Makes `dir` and its missing parents (paths checked by src/io/output-path.ts before the run). */
export function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new WriteError(dir, errno(e));
  }
  watchDir(dir);
}

/** Why a destination cannot be replaced, or undefined when it is absent or a regular file. */
export function notReplaceable(file: string): string | undefined {
  let st;
  try {
    st = lstatSync(file);
  } catch (e) {
    const code = errno(e);
    return code === "ENOENT" ? undefined : code;
  }
  if (st.isSymbolicLink()) return "is a symbolic link (pkvm-check never writes through one)";
  if (st.isDirectory()) return "is a directory";
  if (!st.isFile()) return "is not a regular file";
  return undefined;
}

/** What is written: a text, or a renderer that emits it a piece at a time (an output may be gigabytes). */
export type Content = string | ((emit: Emit) => void);

/** The content written and fsync'ed to a fresh temporary file next to `file`; its path. */
function stage(file: string, data: Content): string {
  const tmp = join(dirname(file), `.${basename(file)}.pkvm-${process.pid}-${randomBytes(6).toString("hex")}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  } catch (e) {
    throw new WriteError(file, errno(e));
  }
  temps.add(tmp);
  try {
    const out = bufferedSink(fd);
    if (typeof data === "string") out.emit(data);
    else data(out.emit);
    out.flush();
    fsyncSync(fd);
  } catch (e) {
    discard(tmp);
    throw new WriteError(file, errno(e));
  } finally {
    closeSync(fd);
  }
  return tmp;
}

function discard(tmp: string): void {
  unlinkQuietly(tmp);
  temps.delete(tmp);
}

/** Why no file can be created in `dir` (an errno code), or undefined when one can: tried with a temporary file. */
export function cannotCreateIn(dir: string): string | undefined {
  try {
    discard(stage(join(dir, ".probe"), ""));
    return undefined;
  } catch (e) {
    return e instanceof WriteError ? e.why : errno(e);
  }
}

/** The rename is durable once the directory's entry is on disk too. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // some file systems cannot fsync a directory; the file itself is on disk
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `data` to `file`, replacing a regular file there: the file is complete or untouched. */
export function writeFileAtomic(file: string, data: Content): void {
  watchDir(dirname(file));
  const refused = notReplaceable(file);
  if (refused) throw new WriteError(file, refused);
  const tmp = stage(file, data);
  try {
    const late = notReplaceable(file);
    if (late) throw new WriteError(file, late);
    renameSync(tmp, file);
    temps.delete(tmp);
  } catch (e) {
    discard(tmp);
    throw e instanceof WriteError ? e : new WriteError(file, errno(e));
  }
  syncDir(dirname(file));
}

/**
 * Writes `data` under the first of `names` (paths in one directory) that is free, or that
 * already holds exactly `data`; returns that path. An existing file is never replaced: link(),
 * unlike rename(), fails when the name exists.
 */
export function writeFileNew(names: Iterable<string>, data: string): string {
  let tmp: string | undefined;
  try {
    for (const path of names) {
      if (tmp === undefined) {
        watchDir(dirname(path));
        tmp = stage(path, data);
      }
      try {
        linkSync(tmp, path);
        syncDir(dirname(path));
        return path;
      } catch (e) {
        if (errno(e) !== "EEXIST") throw new WriteError(path, errno(e));
        if (notReplaceable(path) === undefined && sameText(path, data)) return path;
      }
    }
    throw new Error("writeFileNew: no name left");
  } finally {
    if (tmp !== undefined) discard(tmp);
  }
}

function sameText(file: string, data: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return false;
  }
  try {
    return readFileSync(fd, "utf8") === data;
  } finally {
    closeSync(fd);
  }
}
