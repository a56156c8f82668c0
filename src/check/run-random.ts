// `check --engine random`: fast-check runs over a config's alphabet, each shrunk counterexample
// written as a trace whose meta replays it (seed, path, maxSteps, properties).

import { World } from "../../model/world.js";
import { AlphabetSpace } from "../alphabet.js";
import type { NamedConfig } from "../configs.js";
import { Engine } from "../engine.js";
import { randomExplore } from "../explore/random.js";
import { rate, rssMiB, statusLine } from "../report/progress.js";
import { maskKnown } from "./baseline.js";
import { counterexampleTrace, savedCounterexample } from "./counterexample.js";
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
  const space = new AlphabetSpace(world, { allowInternal: o.allowInternal });
  const progress = statusLine(`random ${named.name} seed ${o.seed}`, { forced: o.progressForced });
  const r = randomExplore(engine, space, {
    properties: o.variant ? o.properties : maskKnown(o.properties, o.baseline),
    seed: o.seed,
    runs: o.runs,
    maxSteps: o.maxSteps,
    timeLimitMs: o.timeLimitMs,
    shard: o.shard,
    path: o.replayPath,
    keepGoing: o.keepGoing,
    stopped: o.stopped,
    onProgress: o.progress
      ? (p) => progress.update(p.elapsedMs, `${p.runs} runs, ${p.stepsRun} steps, ${p.distinctStates} distinct states, ${rate(p.stepsRun, p.elapsedMs)} steps/s, ${rssMiB()} MiB`)
      : undefined,
  });
  progress.done();

  const verdicts: Verdict[] = o.properties.map((p) => ({ property: p.id, status: "bounded" }));
  // Sampled runs are finite: they can show neither that no path reaches a goal nor a fair cycle.
  const skipped = "the random engine samples finite runs: it cannot show that a state is doomed or that a cycle repeats fairly; checked by the exhaustive engine (bfs)";
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
      ...savedCounterexample(o.out, trace),
      steps: trace.steps.length,
    });
  }
  const { coverage, warnings } = coverageOf(r.coverage, new Set(space.actions.map((a) => a.name)), named.name);
  const seconds = r.elapsedMs / 1000;
  return {
    engine: "random",
    config: named.name,
    // Sampling never proves: a random run is complete when it ran its budget, not more.
    complete: r.stopReason !== "time-limit" && r.stopReason !== "interrupted",
    stop: r.stopReason === "time-limit" || r.stopReason === "interrupted" ? r.stopReason : undefined,
    stats: {
      // The base seed and the shard reproduce this run; the shard's own seed alone does too.
      seed: o.seed,
      ...(o.shard ? { shard: `${o.shard.index}/${o.shard.count}`, shardSeed: r.seed } : {}),
      runs: r.runs,
      steps: r.stepsRun,
      distinctStates: r.distinctStates,
      depth: r.maxDepth,
      seconds: Number(seconds.toFixed(2)),
      stepsPerSecond: Math.round(r.stepsRun / Math.max(seconds, 1e-3)),
      reached: `host ${r.reached.host.join("/")}; hyp ${r.reached.hyp.join("/")}; guest ${r.reached.guest.join("/")}; vm ${r.reached.vm.join("/")}`,
    },
    verdicts: [...verdicts, ...(o.temporal ?? []).map((p): Verdict => ({ property: p.id, kind: p.kind, status: "skipped", message: skipped }))],
    warnings,
    coverage,
  };
}
