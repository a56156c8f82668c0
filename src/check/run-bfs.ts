// `check --engine bfs`: the exhaustive search of a config, its counterexamples written as traces,
// and its figures, as an EngineReport.

import { World } from "../../model/world.js";
import { alphabet } from "../alphabet.js";
import type { NamedConfig } from "../configs.js";
import { Engine } from "../engine.js";
import { bfs, type BfsOptions } from "../explore/bfs.js";
import { Symmetry } from "../explore/symmetry.js";
import { TemporalCheck } from "../explore/temporal-properties.js";
import { parallelBfs } from "../explore/workers.js";
import { bfsWorkers } from "./bfs-worker.js";
import { rate, rssMiB, statusLine } from "../report/progress.js";
import { matchKnown } from "./baseline.js";
import { counterexampleTrace, savedCounterexample } from "./counterexample.js";
import { coverageOf, type EngineReport, type ExploreRunOptions, type Verdict } from "./report.js";
import { temporalVerdicts } from "./run-temporal.js";

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
  const steps = alphabet(world, { allowInternal: o.allowInternal }, named.name);
  const progress = statusLine(`bfs ${named.name}`, { forced: o.progressForced });
  const symmetry = o.symmetry ? new Symmetry(world) : undefined;
  // The temporal analyses need the plain state graph of one search: global state indices, and
  // edges between concrete states (a reduced graph's counterexample would not be a real path).
  const plainGraph = o.workers <= 1 && (symmetry?.group.length ?? 1) === 1;
  const temporal = o.temporal?.length && plainGraph ? new TemporalCheck(world, o.temporal) : undefined;
  const opts: BfsOptions = {
    properties: o.properties,
    keepGoing: o.keepGoing,
    maxStates: o.maxStates,
    maxDepth: o.maxDepth,
    timeLimitMs: o.timeLimitMs,
    stopped: o.stopped,
    known: (property, step) => (o.variant ? undefined : matchKnown(o.baseline, property, step?.action.name)),
    onProgress: o.progress
      ? (p) => progress.update(p.elapsedMs, `${p.states} states, queue ${p.queue}, depth ${p.depth}, ${rate(p.states, p.elapsedMs)} states/s, ${rssMiB()} MiB`)
      : undefined,
    symmetry,
    graph: temporal?.builder,
  };
  let r: Omit<ReturnType<typeof bfs>, "visited">;
  let plain: ReturnType<typeof bfs> | undefined; // the one-thread search, whose visited set holds the graph's paths
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
    r = plain = bfs(engine, steps, opts);
  }
  progress.done();
  const meta = { engine: "bfs", ...(o.fault ? { fault: o.fault } : {}), ...(o.allowInternal ? { allowInternal: true } : {}) };
  const temporalRun = temporal && plain && temporalVerdicts(temporal, plain, engine, named, steps, { out: o.out, baseline: o.baseline, variant: o.variant !== undefined, meta });

  const verdicts: Verdict[] = o.properties.map((p) => ({ property: p.id, status: r.stop === "complete" ? "pass" : "bounded" }));
  for (const v of r.violations) {
    const trace = counterexampleTrace(engine, named.name, named.config, {
      property: v.property,
      finding: v.finding,
      steps: v.path.map((i) => steps[i]),
    }, { ...meta, ...(v.known ? { known: v.known } : {}) });
    const verdict = verdicts.find((x) => x.property === v.property)!;
    if (verdict.status === "fail") continue; // a new violation outranks a known one
    Object.assign(verdict, {
      status: v.known ? "known" : "fail",
      known: v.known,
      message: v.finding.message,
      ...(v.known ? {} : savedCounterexample(o.out, trace)),
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
      symmetryGroup: symmetry?.group.length ?? 1,
      workers: o.workers,
      transitions: r.transitions,
      depth: r.depth,
      seconds: Number(seconds.toFixed(2)),
      statesPerSecond: Math.round(r.states / Math.max(seconds, 1e-3)),
      visitedBytesPerState: Number(r.bytesPerState.visited.toFixed(1)),
      linkBytesPerState: r.bytesPerState.links,
      ...temporalRun?.stats,
    },
    verdicts: [...verdicts, ...(temporalRun?.verdicts ?? skippedTemporal(o))],
    warnings,
    coverage,
  };
}

/** Temporal properties a reduced or parallel search cannot judge: said, not silently dropped. */
function skippedTemporal(o: BfsRunOptions): Verdict[] {
  const why = "this search was symmetry-reduced or parallel; temporal properties need the plain state graph of one search (--no-symmetry --workers 1)";
  return (o.temporal ?? []).map((p) => ({ property: p.id, kind: p.kind, status: "skipped", message: why }));
}
