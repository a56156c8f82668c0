// `check --engine bfs`: the exhaustive search of a config, its counterexamples written as traces,
// and its figures, as an EngineReport.

import { World } from "../../model/world.js";
import { alphabet } from "../alphabet.js";
import type { NamedConfig } from "../configs.js";
import { Engine } from "../engine.js";
import { bfs } from "../explore/bfs.js";
import { TemporalCheck } from "../explore/temporal-properties.js";
import { rate, rssMiB, statusLine } from "../report/progress.js";
import { matchKnown } from "./baseline.js";
import { counterexampleTrace, savedCounterexample } from "./counterexample.js";
import { coverageOf, type EngineReport, type ExploreRunOptions, type Verdict } from "./report.js";
import { temporalVerdicts } from "./run-temporal.js";

export interface BfsRunOptions extends ExploreRunOptions {
  maxStates?: number;
  maxDepth?: number;
}

export function runBfs(named: NamedConfig, o: BfsRunOptions): EngineReport {
  const world = new World(named.config);
  const engine = new Engine(world, o.variant);
  const steps = alphabet(world, { allowInternal: o.allowInternal }, named.name);
  const progress = statusLine(`bfs ${named.name}`);
  const temporal = o.temporal?.length ? new TemporalCheck(world, o.temporal) : undefined;
  const r = bfs(engine, steps, {
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
    graph: temporal?.builder,
  });
  progress.done();
  const meta = { engine: "bfs", ...(o.fault ? { fault: o.fault } : {}), ...(o.allowInternal ? { allowInternal: true } : {}) };
  const temporalRun = temporal && temporalVerdicts(temporal, r, engine, named, steps, { out: o.out, baseline: o.baseline, variant: o.variant !== undefined, meta });

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
      transitions: r.transitions,
      depth: r.depth,
      seconds: Number(seconds.toFixed(2)),
      statesPerSecond: Math.round(r.states / Math.max(seconds, 1e-3)),
      visitedBytesPerState: Number(r.bytesPerState.visited.toFixed(1)),
      linkBytesPerState: r.bytesPerState.links,
      ...temporalRun?.stats,
    },
    verdicts: [...verdicts, ...(temporalRun?.verdicts ?? [])],
    warnings,
    coverage,
  };
}
