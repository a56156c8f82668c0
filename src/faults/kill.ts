// One seeded fault through one engine: whether the engine catches it, with which property, how
// fast, and the counterexample, as a trace whose meta names the fault.

import { World } from "../../model/world.js";
import type { Property } from "../../properties/property.js";
import { alphabet } from "../alphabet.js";
import { counterexampleTrace, type Found } from "../check/counterexample.js";
import { resolveConfig, type NamedConfig } from "../configs.js";
import { Engine } from "../engine.js";
import { bfs } from "../explore/bfs.js";
import { randomExplore } from "../explore/random.js";
import type { Trace, Violation } from "../trace.js";
import type { Cti } from "../smt/cti.js";
import type { Fault } from "./fault.js";

export const KILL_ENGINES = ["bfs", "random", "smt"] as const;
export type KillEngine = (typeof KILL_ENGINES)[number];

export interface Kill {
  engine: KillEngine;
  config: string;
  caught: boolean;
  property?: string;
  /** Time to the first counterexample (for random, shrunk); when none was found, the run's time. */
  ms: number;
  /** The counterexample's length, in steps (bfs, random). */
  steps?: number;
  /** How a run that caught nothing ended: "complete" (for bfs, a proof) or the limit it hit. */
  stop?: string;
  trace?: Trace & { violation: Violation };
  /** smt: the counterexample to induction (one step from a state of the invariant) and its transition. */
  cti?: { transition: string; cti: Cti };
  /** smt: why the fault has no SMT twin. */
  na?: string;
}

export interface KillBudget {
  bfsTimeLimitMs: number;
  seed: number;
  randomRuns: number;
  randomTimeLimitMs: number;
  /** Per z3 check of the SMT engine's search. */
  smtTimeoutMs: number;
}

/**
 * What `pkvm-check faults` gives each run. Measured here (2 cores, shared): bfs catches every
 * fault it catches within 10 s, so 30 s only bounds one that escapes; 2000 random runs take 4 to
 * 7 s on `wide`. The whole matrix takes one to two minutes.
 */
export const DEFAULT_BUDGET: KillBudget = { bfsTimeLimitMs: 30_000, seed: 42, randomRuns: 2000, randomTimeLimitMs: 10_000, smtTimeoutMs: 10_000 };

/** Exhaustive search on `default`, or the fault's own world. */
export function bfsConfig(fault: Fault): NamedConfig {
  return fault.config ?? resolveConfig("default");
}

/** Random runs on `wide`, or the fault's own world. */
export function randomConfig(fault: Fault): NamedConfig {
  return fault.config ?? resolveConfig("wide");
}

/** properties: with the real model's known findings masked (known.ts). */
export function kill(fault: Fault, engine: Exclude<KillEngine, "smt">, properties: readonly Property[], budget: KillBudget): Kill {
  const named = engine === "bfs" ? bfsConfig(fault) : randomConfig(fault);
  const world = new World(named.config);
  const model = new Engine(world, fault.variant);
  const steps = alphabet(world);
  const found = (ms: number, v: Found, meta: Record<string, unknown>): Kill => {
    const trace = counterexampleTrace(model, named.name, named.config, v, { engine, fault: fault.name, ...meta });
    return { engine, config: named.name, caught: true, property: v.property, ms, steps: trace.steps.length, trace };
  };

  if (engine === "bfs") {
    const r = bfs(model, steps, { properties, timeLimitMs: budget.bfsTimeLimitMs });
    const v = r.violations[0];
    if (!v) return { engine, config: named.name, caught: false, ms: r.elapsedMs, stop: r.stop };
    return found(r.elapsedMs, { property: v.property, finding: v.finding, steps: v.path.map((i) => steps[i]) }, {});
  }
  const r = randomExplore(model, steps, { properties, seed: budget.seed, runs: budget.randomRuns, timeLimitMs: budget.randomTimeLimitMs });
  const v = r.violations[0];
  if (!v) return { engine, config: named.name, caught: false, ms: r.elapsedMs, stop: r.stopReason === "time-limit" ? "time-limit" : `${r.runs} runs` };
  return found(r.elapsedMs, v, { seed: v.seed, path: v.path, maxSteps: v.maxSteps, properties: v.properties });
}
