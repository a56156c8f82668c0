// Every path pkvm-check will write to is checked before any engine starts, so that a path that
// cannot be written is exit 2, naming the flag, within a second, and not an error after minutes
// of search. Nothing is created here: a directory that does not exist yet is made when the first
// file is written into it; what is checked is that its nearest existing ancestor is a directory
// where a file can be created (tried with a temporary file, removed at once), which is what
// `--out /proc/self/nonexistent/x` or a read-only mount fail.

import { statSync } from "node:fs";
import { dirname } from "node:path";
import { InputError } from "../../model/config.js";
import { cannotCreateIn, notReplaceable, watchDir } from "./write-file.js";

function nonEmpty(path: string, flag: string): void {
  if (path === "") throw new InputError(`${flag}: expected a path, got ""`);
}

/** The nearest existing ancestor of `dir` (or `dir` itself); every existing one must be a directory. */
function existingAncestor(dir: string, flag: string, what: string): string {
  for (let p = dir; ; p = dirname(p)) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === "ENOENT" || code === "ENOTDIR") && dirname(p) !== p) continue;
      throw new InputError(`${flag} ${what}: cannot use ${p}: ${code ?? (e as Error).message}`);
    }
    if (!st.isDirectory()) throw new InputError(`${flag} ${what}: ${p === what ? "" : `${p} is `}not a directory`);
    return p;
  }
}

function checkCreatable(dir: string, flag: string, what: string): void {
  const why = cannotCreateIn(dir);
  if (why) throw new InputError(`${flag} ${what}: cannot create files in ${dir}: ${why}`);
}

/** A directory to write files into: a directory, or one that can be created. */
export function checkOutputDir(dir: string, flag: string): void {
  nonEmpty(dir, flag);
  checkCreatable(existingAncestor(dir, flag, dir), flag, dir);
  watchDir(dir);
}

/** A file to write: in an existing directory, and absent or a regular file (never a link). */
export function checkOutputFile(file: string, flag: string): void {
  nonEmpty(file, flag);
  const dir = dirname(file);
  if (existingAncestor(dir, flag, file) !== dir) throw new InputError(`${flag} ${file}: no such directory ${dir}`);
  const refused = notReplaceable(file);
  if (refused) throw new InputError(`${flag} ${file}: ${refused}`);
  checkCreatable(dir, flag, file);
  watchDir(dir);
}
