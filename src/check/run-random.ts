// `check --engine random`: fast-check runs over a config's alphabet, each shrunk counterexample
// written as a trace whose meta replays it (seed, path, maxSteps, properties).

import { World } from "../../model/world.js";
import { alphabet } from "../alphabet.js";
import type { NamedConfig } from "../configs.js";
import { Engine } from "../engine.js";
import { randomExplore } from "../explore/random.js";
import { progressReporter } from "../report/progress.js";
import { writeCounterexample } from "../trace.js";
import { maskKnown } from "./baseline.js";
import { counterexampleTrace } from "./counterexample.js";
import { coverageOf, type EngineReport, type ExploreRunOptions, type Verdict } from "./report.js";

export interface RandomRunOptions extends ExploreRunOptions {
  seed: number;
  runs?: number;
  maxSteps?: number;
  shard?: { index: number; count: number };
  replayPath?: string;
}

export function runRandom(named: NamedConfig, o: RandomRunOptions): EngineReport {
  const world = new World(named.config);
  const engine = new Engine(world, o.variant);
  const steps = alphabet(world, { allowInternal: o.allowInternal });
  const progress = progressReporter(`random ${named.name} seed ${o.seed}`, process.stderr, o.progressForced);
  const r = randomExplore(engine, steps, {
    properties: o.variant ? o.properties : maskKnown(o.properties, o.baseline),
    seed: o.seed,
    runs: o.runs,
    maxSteps: o.maxSteps,
    timeLimitMs: o.timeLimitMs,
    shard: o.shard,
    path: o.replayPath,
    keepGoing: o.keepGoing,
    onProgress: o.progress
      ? (p) => progress.update({ states: p.distinctStates, depth: p.runs, elapsedMs: p.elapsedMs })
      : undefined,
  });
  progress.done();

  const verdicts: Verdict[] = o.properties.map((p) => ({ property: p.id, status: "bounded" }));
  for (const v of r.violations) {
    const trace = counterexampleTrace(engine, named.name, named.config, v, {
      engine: "random",
      seed: v.seed,
      path: v.path,
      maxSteps: v.maxSteps,
      properties: v.properties,
      ...(o.fault ? { fault: o.fault } : {}),
    });
    Object.assign(verdicts.find((x) => x.property === v.property)!, {
      status: "fail",
      message: v.finding.message,
      counterexample: writeCounterexample(o.out, trace),
      steps: trace.steps.length,
    });
  }
  const { coverage, warnings } = coverageOf(r.coverage, new Set(steps.map((s) => s.action.name)), named.name);
  const seconds = r.elapsedMs / 1000;
  return {
    engine: "random",
    config: named.name,
    // Sampling never proves: a random run is complete when it ran its budget, not more.
    complete: r.stopReason !== "time-limit",
    stop: r.stopReason === "time-limit" ? "time-limit" : undefined,
    stats: {
      seed: r.seed,
      runs: r.runs,
      steps: r.stepsRun,
      distinctStates: r.distinctStates,
      depth: r.maxDepth,
      seconds: Number(seconds.toFixed(2)),
      stepsPerSecond: Math.round(r.stepsRun / Math.max(seconds, 1e-3)),
      reached: `host ${r.reached.host.join("/")}; hyp ${r.reached.hyp.join("/")}; guest ${r.reached.guest.join("/")}; vm ${r.reached.vm.join("/")}`,
    },
    verdicts,
    warnings,
    coverage,
  };
}
