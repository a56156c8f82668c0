// A counterexample found by an engine, as a trace: the steps from the initial state, each with
// the return the engine observed as its `expect`, and the violation at the last step.

import type { Step } from "../../model/actions.js";
import type { WorldConfig } from "../../model/config.js";
import { MODEL_VERSION } from "../../model/version.js";
import type { Finding } from "../../properties/property.js";
import type { Engine } from "../engine.js";
import { WriteError } from "../io/write-file.js";
import { INITIAL_STEP, writeCounterexample, type Trace, type Violation } from "../trace.js";

export interface Found {
  property: string;
  finding: Finding;
  steps: readonly Step[];
}

export function counterexampleTrace(
  engine: Engine,
  configName: string,
  config: WorldConfig,
  found: Found,
  meta: Record<string, unknown>,
): Trace & { violation: Violation } {
  let state = engine.initial();
  const steps = found.steps.map((step) => {
    const r = engine.step(state, step);
    state = r.state;
    return { step, expect: r.ret };
  });
  return {
    file: "",
    config,
    configName,
    steps,
    violation: { property: found.property, step: steps.length === 0 ? INITIAL_STEP : steps.length - 1, message: found.finding.message },
    meta: { ...meta, config: configName, model: MODEL_VERSION },
  };
}

/**
 * The verdict's fields for a counterexample written under `out`: its file, or why it could not be
 * written. A violation found stays a violation when the disk is full.
 */
export function savedCounterexample(out: string, trace: Trace & { violation: Violation }): { counterexample?: string; writeError?: string } {
  try {
    return { counterexample: writeCounterexample(out, trace) };
  } catch (e) {
    if (!(e instanceof WriteError)) throw e;
    return { writeError: e.message };
  }
}
