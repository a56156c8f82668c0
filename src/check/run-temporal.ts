// `check --engine bfs` with temporal properties: the graph the search collects, the analyses
// once it is complete, each violation as a replayable trace (a path to a doomed state with the
// calls still possible there, or a lasso with its `loop`), and the temporal verdicts.

import { formatStep } from "../../model/actions.js";
import type { WorldConfig } from "../../model/config.js";
import { PkvmState } from "../../model/state.js";
import type { TemporalProperty } from "../../properties/property.js";
import type { AlphabetStep } from "../alphabet.js";
import type { Engine } from "../engine.js";
import type { BfsResult } from "../explore/bfs.js";
import { doomedMessage, TemporalCheck, type TemporalViolation } from "../explore/temporal-properties.js";
import { temporalViolations } from "../temporal-replay.js";
import { INITIAL_STEP, type Trace, type Violation } from "../trace.js";
import { savedCounterexample } from "./counterexample.js";
import { matchKnown, type KnownFinding } from "./baseline.js";
import { counterexampleTrace } from "./counterexample.js";
import type { Verdict } from "./report.js";

export interface TemporalRunOptions {
  out: string;
  baseline: readonly KnownFinding[];
  /** A seeded fault: no known findings apply. */
  variant: boolean;
  meta: Record<string, unknown>;
}

/** The counterexample of a temporal violation, replayed into a trace. */
function temporalTrace(
  engine: Engine,
  named: { name: string; config: WorldConfig },
  steps: readonly AlphabetStep[],
  p: TemporalProperty,
  v: TemporalViolation,
  meta: Record<string, unknown>,
): Trace & { violation: Violation } {
  const path = v.path.map((i) => steps[i]);
  if (p.kind === "always-eventually-possible") {
    const last = path.reduce((s, step) => engine.step(s, step).state, engine.initial());
    const unmet = p.unmet(new PkvmState(engine.world, last));
    const enabled = v.enabled!.map((i) => steps[i]);
    const finding = { ...unmet, message: doomedMessage(unmet, enabled) };
    return counterexampleTrace(engine, named.name, named.config, { property: p.id, finding, steps: path }, { ...meta, enabled: enabled.map(formatStep) });
  }
  // The lasso's claim is exactly what its replay finds: from where p holds for good, the cycle.
  const trace = counterexampleTrace(engine, named.name, named.config, { property: p.id, finding: { message: "" }, steps: path }, { ...meta, fairness: "weak, every host call" });
  const lasso = { ...trace, loop: v.loop! };
  const states = [engine.initial()];
  for (const step of path) states.push(engine.step(states[states.length - 1], step).state);
  const [claim] = temporalViolations(lasso, engine, states, [p]);
  if (!claim) throw new Error(`temporal: the lasso found for ${p.id} does not replay as a violation`);
  return { ...lasso, violation: { property: p.id, step: claim.step, message: claim.finding.message } };
}

/** The temporal verdicts of a finished search (skipped when it was cut short). */
export function temporalVerdicts(
  check: TemporalCheck,
  r: BfsResult,
  engine: Engine,
  named: { name: string; config: WorldConfig },
  steps: readonly AlphabetStep[],
  o: TemporalRunOptions,
): { verdicts: Verdict[]; stats: Record<string, number> } {
  const props = check.properties;
  if (r.stop !== "complete") {
    const message = `the search stopped (${r.stop}): temporal properties need the whole state graph`;
    return { verdicts: props.map((p) => ({ property: p.id, kind: p.kind, status: "skipped", message })), stats: {} };
  }
  const t0 = Date.now();
  const graph = check.builder.freeze(r.states);
  const found = check.violations(graph, steps, (i) => r.visited.pathTo(i));
  const verdicts = props.map((p): Verdict => {
    const v = found.find((x) => x.property === p.id);
    if (!v) return { property: p.id, kind: p.kind, status: "pass" };
    const trace = temporalTrace(engine, named, steps, p, v, o.meta);
    const via = trace.violation.step === INITIAL_STEP ? undefined : trace.steps[trace.violation.step].step.action.name;
    const known = o.variant ? undefined : matchKnown(o.baseline, p.id, via);
    return {
      property: p.id,
      kind: p.kind,
      status: known ? "known" : "fail",
      known,
      message: trace.violation.message,
      ...(known ? {} : savedCounterexample(o.out, trace)),
      steps: trace.steps.length,
    };
  });
  const bytes = graph.bytes();
  return {
    verdicts,
    stats: {
      edges: graph.edges,
      edgeBytes: Number(bytes.perEdge.toFixed(1)),
      graphBytesPerState: Number(bytes.perState.toFixed(1)),
      temporalSeconds: Number(((Date.now() - t0) / 1000).toFixed(2)),
    },
  };
}
