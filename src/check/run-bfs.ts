// `check --engine bfs`: the exhaustive search of a config, its counterexamples written as traces,
// and its figures, as an EngineReport.

import { World } from "../../model/world.js";
import { alphabet } from "../alphabet.js";
import type { NamedConfig } from "../configs.js";
import { Engine } from "../engine.js";
import { bfs, type BfsOptions } from "../explore/bfs.js";
import { Symmetry } from "../explore/symmetry.js";
import { parallelBfs } from "../explore/workers.js";
import { bfsWorkers } from "./bfs-worker.js";
import { progressReporter } from "../report/progress.js";
import { matchKnown } from "./baseline.js";
import { counterexampleTrace } from "./counterexample.js";
import { coverageOf, type EngineReport, type ExploreRunOptions, type Verdict } from "./report.js";
import { writeCounterexample } from "../trace.js";

export interface BfsRunOptions extends ExploreRunOptions {
  maxStates?: number;
  maxDepth?: number;
  /** Store states as orbit representatives (src/explore/symmetry.ts). */
  symmetry: boolean;
  /** Threads that expand states; 1 searches on this thread. */
  workers: number;
}

export async function runBfs(named: NamedConfig, o: BfsRunOptions): Promise<EngineReport> {
  const world = new World(named.config);
  const engine = new Engine(world, o.variant);
  const steps = alphabet(world, { allowInternal: o.allowInternal });
  const progress = progressReporter(`bfs ${named.name}`, process.stderr, o.progressForced);
  const opts: BfsOptions = {
    properties: o.properties,
    keepGoing: o.keepGoing,
    maxStates: o.maxStates,
    maxDepth: o.maxDepth,
    timeLimitMs: o.timeLimitMs,
    known: (property, step) => (o.variant ? undefined : matchKnown(o.baseline, property, step?.action.name)),
    onProgress: o.progress ? progress.update : undefined,
    symmetry: o.symmetry ? new Symmetry(world) : undefined,
  };
  let r: Omit<ReturnType<typeof bfs>, "visited">;
  if (o.workers > 1) {
    const job = {
      config: named.config,
      fault: o.fault,
      properties: o.properties.map((p) => p.id),
      baseline: [...o.baseline],
      allowInternal: o.allowInternal,
      symmetry: o.symmetry,
      keepGoing: o.keepGoing,
      maxStates: o.maxStates,
    };
    const workers = bfsWorkers(job, o.workers);
    try {
      r = await parallelBfs(engine, steps, opts, workers);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  } else {
    r = bfs(engine, steps, opts);
  }
  progress.done();

  const verdicts: Verdict[] = o.properties.map((p) => ({ property: p.id, status: r.stop === "complete" ? "pass" : "bounded" }));
  for (const v of r.violations) {
    const trace = counterexampleTrace(engine, named.name, named.config, {
      property: v.property,
      finding: v.finding,
      steps: v.path.map((i) => steps[i]),
    }, { engine: "bfs", ...(o.fault ? { fault: o.fault } : {}), ...(v.known ? { known: v.known } : {}) });
    const verdict = verdicts.find((x) => x.property === v.property)!;
    if (verdict.status === "fail") continue; // a new violation outranks a known one
    Object.assign(verdict, {
      status: v.known ? "known" : "fail",
      known: v.known,
      message: v.finding.message,
      counterexample: v.known ? undefined : writeCounterexample(o.out, trace),
      steps: trace.steps.length,
    });
  }

  const { coverage, warnings } = coverageOf(r.coverage, new Set(steps.map((s) => s.action.name)), named.name);
  const seconds = r.elapsedMs / 1000;
  return {
    engine: "bfs",
    config: named.name,
    complete: r.stop === "complete",
    stop: r.stop === "complete" ? undefined : r.stop,
    stats: {
      alphabet: steps.length,
      states: r.states,
      unreducedStates: r.unreducedStates,
      symmetryGroup: opts.symmetry?.group.length ?? 1,
      workers: o.workers,
      transitions: r.transitions,
      depth: r.depth,
      seconds: Number(seconds.toFixed(2)),
      statesPerSecond: Math.round(r.states / Math.max(seconds, 1e-3)),
      visitedBytesPerState: Number(r.bytesPerState.visited.toFixed(1)),
      linkBytesPerState: r.bytesPerState.links,
    },
    verdicts,
    warnings,
    coverage,
  };
}
