// What `export`, `report` and check's --itf / --html / --sarif share: the replayed trace they
// render, the files they write (checked before any work, so that a bad path is exit 2 with
// nothing written), and the line that explains their exit code 1.

import { statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { InputError } from "../../model/config.js";
import type { ModelVariant } from "../engine.js";
import { traceStates, type TraceStates } from "../report/view.js";
import { replay, type ReplayResult } from "../replay.js";
import { readTrace, type Trace } from "../trace.js";
import { faultByName, faultOption } from "../faults/registry.js";

export interface Replayed {
  trace: Trace;
  result: ReplayResult;
  states: TraceStates;
}

/**
 * The model a trace replays on: the --fault flag's seeded fault, else the one its meta.fault
 * records (a fault's counterexample shows its violation only under that fault), else the real model.
 */
export function modelOf(trace: Trace, fault: string | undefined): ModelVariant | undefined {
  if (fault !== undefined) return faultOption(fault)!.variant;
  const recorded = trace.meta?.fault;
  if (recorded === undefined) return undefined;
  const found = typeof recorded === "string" ? faultByName(recorded) : undefined;
  if (!found) throw new InputError(`${trace.file}: meta.fault: unknown seeded fault ${JSON.stringify(recorded)} (pkvm-check faults --list names them)`);
  return found.variant;
}

/**
 * A trace file read and replayed, its states kept, on the model modelOf() chooses (`variant`
 * given: that one, as check does under its own --fault).
 */
export function replayed(file: string, o: { variant?: ModelVariant; fault?: string } = {}): Replayed {
  const trace = readTrace(file);
  const variant = o.variant ?? modelOf(trace, o.fault);
  const result = replay(trace, { variant });
  return { trace, result, states: traceStates(result.world, trace.steps.map((s) => s.step), variant) };
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

/** Why a replayed trace is not ok: the line that explains exit code 1. */
export function failure(r: ReplayResult): string {
  const violations = r.violations.map((v) => `${v.property} at step ${v.step}`);
  const mismatches = r.steps.filter((s) => !s.match).map((s) => s.index);
  return [
    ...(violations.length ? [`violates ${violations.join(", ")}`] : []),
    ...(mismatches.length ? [`differs from its expect at step ${mismatches.join(", ")}`] : []),
  ].join(" and ");
}
