// What `export`, `report` and check's --itf / --html / --sarif share: the replayed trace they
// render, and the line that explains their exit code 1. Their files are checked before any work
// (src/io/output-path.ts) and written through src/io/write-file.ts, as they are rendered.

import { InputError, type WorldConfig } from "../../model/config.js";
import type { ModelVariant } from "../engine.js";
import { faultByName, faultOption } from "../faults/registry.js";
import { writeFileAtomic } from "../io/write-file.js";
import { bufferedSink, type Emit } from "../report/sink.js";
import { walkTrace, type StateWalk } from "../report/view.js";
import { replay, type ReplayResult } from "../replay.js";
import { readTrace, type Trace } from "../trace.js";

export interface Replayed {
  trace: Trace;
  result: ReplayResult;
  states: StateWalk;
}

/**
 * ITF and HTML render every state in full, a row per page and per guest frame: a world wider than
 * this is refused before its states are computed (a 1 kB trace may declare 2^24 pages).
 */
export const MAX_RENDERED_ROWS = 1 << 16;

export function checkRenderable(config: WorldConfig, where: string): void {
  const frames = config.vms.reduce((n, v) => n + v.gfns, 0);
  if (config.pages + frames > MAX_RENDERED_ROWS) {
    throw new InputError(`${where}: ${config.pages} pages and ${frames} guest frames are too many to render (at most ${MAX_RENDERED_ROWS} in all)`);
  }
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
 * A trace file read and replayed, and a walk over its states, on the model modelOf() chooses
 * (`variant` given: that one, as check does under its own --fault).
 */
export function replayed(file: string, o: { variant?: ModelVariant; fault?: string } = {}): Replayed {
  const trace = readTrace(file);
  const variant = o.variant ?? modelOf(trace, o.fault);
  checkRenderable(trace.config, `${file}: config`);
  const result = replay(trace, { variant });
  return { trace, result, states: walkTrace(result.world, trace.steps.map((s) => s.step), variant) };
}

/** Writes what `render` emits into `file` (stdout when undefined) as it is rendered: an output may be gigabytes. */
export function writeOutputWith(file: string | undefined, render: (emit: Emit) => void): void {
  if (file !== undefined) return writeFileAtomic(file, render);
  const out = bufferedSink();
  render(out.emit);
  out.flush();
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
    ...(r.loopCloses === false ? [`its loop does not close`] : []),
  ].join(" and ");
}
