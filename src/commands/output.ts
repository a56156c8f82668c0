// What `export`, `report` and check's --itf / --html / --sarif share: the replayed trace they
// render, and the line that explains their exit code 1. Their files are checked before any work
// (src/io/output-path.ts) and written through src/io/write-file.ts.

import type { ModelVariant } from "../engine.js";
import { traceStates, type TraceStates } from "../report/view.js";
import { replay, type ReplayResult } from "../replay.js";
import { readTrace, type Trace } from "../trace.js";

export interface Replayed {
  trace: Trace;
  result: ReplayResult;
  states: TraceStates;
}

/** A trace file read and replayed, its states kept (on a model variant: the states it checked). */
export function replayed(file: string, variant?: ModelVariant): Replayed {
  const trace = readTrace(file);
  const result = replay(trace, { variant });
  return { trace, result, states: traceStates(result.world, trace.steps.map((s) => s.step), variant) };
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
