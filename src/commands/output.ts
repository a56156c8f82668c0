// What `export`, `report` and check's --itf / --html / --sarif share: the replayed trace they
// render, the files they write (checked before any work, so that a bad path is exit 2 with
// nothing written), and the line that explains their exit code 1.

import { closeSync, openSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { InputError } from "../../model/config.js";
import type { ModelVariant } from "../engine.js";
import { bufferedSink, type Emit } from "../report/sink.js";
import { walkTrace, type StateWalk } from "../report/view.js";
import { replay, type ReplayResult } from "../replay.js";
import { readTrace, type Trace } from "../trace.js";

export interface Replayed {
  trace: Trace;
  result: ReplayResult;
  states: StateWalk;
}

/** A trace file read and replayed, and a walk over its states (on a model variant: the states it checked). */
export function replayed(file: string, variant?: ModelVariant): Replayed {
  const trace = readTrace(file);
  const result = replay(trace, { variant });
  return { trace, result, states: walkTrace(result.world, trace.steps.map((s) => s.step), variant) };
}

/** A file to write: its directory must exist, and it must not be a directory itself. */
export function checkOutputFile(file: string, flag: string): void {
  if (!statSync(dirname(file), { throwIfNoEntry: false })?.isDirectory()) throw new InputError(`${flag} ${file}: no such directory ${dirname(file)}`);
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new InputError(`${flag} ${file}: is a directory`);
}

/** A directory to write into: absent (it is created) or a directory. */
export function checkOutputDir(dir: string, flag: string): void {
  if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() === false) throw new InputError(`${flag} ${dir}: not a directory`);
}

export function writeOutput(file: string, text: string, flag: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new InputError(`${flag} ${file}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Writes what `render` emits into `file` (stdout when undefined) as it is rendered: an output may be gigabytes. */
export function writeOutputWith(file: string | undefined, flag: string, render: (emit: Emit) => void): void {
  if (file === undefined) {
    const out = bufferedSink();
    render(out.emit);
    out.flush();
    return;
  }
  let fd: number;
  try {
    fd = openSync(file, "w");
  } catch (e) {
    throw new InputError(`${flag} ${file}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const out = bufferedSink(fd);
    render(out.emit);
    out.flush();
  } finally {
    closeSync(fd);
  }
}

/** Why a replayed trace is not ok: the line that explains exit code 1. */
export function failure(r: ReplayResult): string {
  const violations = r.violations.map((v) => `${v.property} at step ${v.step}`);
  const mismatches = r.steps.filter((s) => !s.match).map((s) => s.index);
  // A long trace may differ at every step: the line names the first ten.
  const at = mismatches.length > 10 ? `${mismatches.slice(0, 10).join(", ")}, ... (${mismatches.length} steps)` : mismatches.join(", ");
  return [
    ...(violations.length ? [`violates ${violations.join(", ")}`] : []),
    ...(mismatches.length ? [`differs from its expect at step ${at}`] : []),
  ].join(" and ");
}
