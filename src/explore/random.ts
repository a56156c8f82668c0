// Random exploration (`--engine random`): fast-check generates long runs of decisions, each read
// against the current state as a step of the adversary's alphabet (random-choice.ts), runs them
// on the reference engine and checks every property after every step (random-run.ts). A failing
// run is shrunk by fast-check, then its steps are minimised, and it is reported with the seed and
// fast-check path that replay it. Deterministic: the same options give the same result, unless
// the time limit cuts the runs short.

import fc from "fast-check";
import { ACTIONS } from "../../model/actions.js";
import { RETURNS, type Ret } from "../../model/errno.js";
import type { Finding, Property } from "../../properties/property.js";
import type { AlphabetSpace, AlphabetStep } from "../alphabet.js";
import type { Engine } from "../engine.js";
import { Chooser, DIGITS, mix32, type Decision } from "./random-choice.js";
import { Explorer, type Reached, type RunInput, type Trace, type Violated } from "./random-run.js";
import type { VisitedSet } from "./visited.js";

export const DEFAULT_RUNS = 100;
export const DEFAULT_MAX_STEPS = 400;

export interface RandomOptions {
  properties: readonly Property[];
  seed: number;
  /** Runs to generate (default 100); with a shard, runs of this shard. */
  runs?: number;
  /** The longest run, in decisions (default 400); part of what a seed and path replay. */
  maxSteps?: number;
  /** Generate no new run after this long; a failure found by then is still shrunk. */
  timeLimitMs?: number;
  shard?: { index: number; count: number };
  /** Replay the one run at this fast-check path (a violation's `path`), with its seed. */
  path?: string;
  /** After a violation, go on without the violated property instead of stopping. */
  keepGoing?: boolean;
  onProgress?: (p: RandomProgress) => void;
  /** Polled before every run, and during shrinking: true ends the search ("interrupted"), e.g. on SIGINT. */
  stopped?: () => boolean;
  /** Called with the words of every distinct state that passed the checks (valid only during the call). */
  onNewState?: (s: Uint32Array) => void;
}

export interface RandomProgress {
  runs: number;
  stepsRun: number;
  distinctStates: number;
  elapsedMs: number;
}

export interface RandomViolation {
  property: string;
  finding: Finding;
  /** The minimised trace from the initial state; the violation shows after the last step. */
  steps: AlphabetStep[];
  returns: Ret[];
  /** Replays it: randomExplore(engine, alphabet, { properties, seed, path, maxSteps }). */
  seed: number;
  path: string;
  maxSteps: number;
  /** The ids of the properties checked when it was found. */
  properties: string[];
}

export type RandomStopReason = "complete" | "violation" | "time-limit" | "interrupted";

export interface RandomResult {
  /** The seed fast-check ran with: the shard's (see shardSeed). */
  seed: number;
  /** Runs generated (runs after a violation with keepGoing start over from the first). */
  runs: number;
  /** Steps executed, shrinking and minimising included. */
  stepsRun: number;
  /** Distinct states (by fingerprint) that passed every check, the initial one included; at most VISITED_CAP. */
  distinctStates: number;
  /** Steps in the longest run. */
  maxDepth: number;
  /** coverage[actionIndex in ACTIONS][returnIndex in RETURNS] = count of steps. */
  coverage: number[][];
  reached: Reached;
  elapsedMs: number;
  stopReason: RandomStopReason;
  violations: RandomViolation[];
  visited: VisitedSet;
}

const PROGRESS_EVERY = 64;

/**
 * `--shard I/N`: N CI jobs split one exploration, each running `runs` runs. Shard I runs from
 * its own seed, a hash of the base seed and I; shard 0 keeps the base seed, so shard 0/N is the
 * unsharded run. The N seeds give N independent streams: together the jobs run N x runs
 * distinct runs, and each violation records the seed it was found with, so reproducing it
 * needs no --shard.
 */
export function shardSeed(seed: number, shard?: { index: number; count: number }): number {
  return shard === undefined || shard.index === 0 ? seed : mix32(seed, shard.index);
}

/** A run: a swarm and up to maxSteps decisions, lengths spread over the whole range. */
function runArbitrary(maxSteps: number): fc.Arbitrary<RunInput> {
  // A smaller digit is rarely a simpler step: fast-check shrinks by removing decisions, and the
  // minimiser below does the rest on the steps.
  const decision = fc.noShrink(fc.array(fc.nat(), { minLength: DIGITS, maxLength: DIGITS })) as fc.Arbitrary<Decision>;
  return fc.record({ swarm: fc.nat(), steps: fc.array(decision, { maxLength: maxSteps, size: "max" }) });
}

/**
 * Deletes steps from a failing trace while the same property still fails, in chunks halving
 * down to single steps, until no deletion keeps it failing. fast-check shrinks decisions, and a
 * decision read in another state can mean another step, so the trace itself is minimised last.
 */
function minimise(ex: Explorer, steps: AlphabetStep[], property: Property): AlphabetStep[] {
  let best = steps;
  let chunk = Math.max(1, best.length >> 1);
  for (;;) {
    let removed = false;
    for (let i = 0; i < best.length; ) {
      const candidate = [...best.slice(0, i), ...best.slice(i + chunk)];
      const v = ex.replay(candidate);
      if (v !== null && v.property === property) {
        best = candidate.slice(0, v.at + 1);
        removed = true;
      } else {
        i += chunk;
      }
    }
    if (!removed && chunk === 1) return best;
    if (!removed) chunk >>= 1;
  }
}

/** `alphabet`: its steps, or (any size of world) the space they come from. */
export function randomExplore(engine: Engine, alphabet: readonly AlphabetStep[] | AlphabetSpace, opts: RandomOptions): RandomResult {
  const t0 = Date.now();
  const deadline = opts.timeLimitMs === undefined ? Infinity : t0 + opts.timeLimitMs;
  const seed = shardSeed(opts.seed, opts.shard);
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const arbitrary = runArbitrary(maxSteps);
  const ex = new Explorer(engine, new Chooser(alphabet), opts.onNewState);
  const violations: RandomViolation[] = [];
  let live = [...opts.properties];
  let stop: RandomStopReason = "complete";
  let runs = 0;

  const report = (v: Violated, trace: Trace, path: string): void => {
    const { property, finding } = v;
    violations.push({ property: property.id, finding, ...trace, seed, path, maxSteps, properties: live.map((p) => p.id) });
    live = live.filter((p) => p !== property);
    ex.setProperties(live);
    if (!opts.keepGoing && stop === "complete") stop = "violation";
  };

  ex.setProperties(live);
  for (let v = ex.checkInitial(); v !== null && stop === "complete"; v = ex.checkInitial()) report(v, { steps: [], returns: [] }, "");

  // With no property at all, explore for coverage; else while some property is left to check.
  while (stop === "complete" && (live.length > 0 || opts.properties.length === 0)) {
    let shrinking = false;
    const property = fc.property(arbitrary, (input) => {
      if (opts.stopped?.()) throw new fc.PreconditionFailure(true);
      if (!shrinking) {
        if (Date.now() > deadline) throw new fc.PreconditionFailure(true);
        if (++runs % PROGRESS_EVERY === 0) opts.onProgress?.(progress());
      }
      let failed = true; // a model that throws fails the run too, and fast-check shrinks that
      try {
        failed = ex.run(input, undefined, shrinking ? Infinity : deadline) !== null;
      } finally {
        shrinking ||= failed;
      }
      return !failed;
    });
    const details = fc.check(property, { seed, numRuns: opts.runs ?? DEFAULT_RUNS, path: opts.path, endOnFailure: opts.path !== undefined });
    if (details.interrupted) stop = opts.stopped?.() ? "interrupted" : "time-limit";
    // Interrupted before its first run, fast-check reports a failure with no counterexample.
    if (!details.failed || (details.interrupted && details.counterexample === null)) break;

    const run: Trace = { steps: [], returns: [] };
    const v = ex.run(details.counterexample![0], run);
    if (v === null) throw details.errorInstance ?? new Error("random: fast-check reported a failure the engine does not reproduce");
    const trace: Trace = { steps: [], returns: [] };
    const last = ex.replay(minimise(ex, run.steps.slice(0, v.at + 1), v.property), trace)!;
    report(last, trace, details.counterexamplePath!);
    if (opts.path !== undefined) break; // a replay looks at its one run
  }

  function progress(): RandomProgress {
    return { runs, stepsRun: ex.stepsRun, distinctStates: ex.visited.size, elapsedMs: Date.now() - t0 };
  }

  return {
    seed,
    runs,
    stepsRun: ex.stepsRun,
    distinctStates: ex.visited.size,
    maxDepth: ex.maxDepth,
    coverage: ACTIONS.map((_, i) => Array.from(ex.coverage.subarray(i * RETURNS.length, (i + 1) * RETURNS.length))),
    reached: ex.reachedStates(),
    elapsedMs: Date.now() - t0,
    stopReason: stop,
    violations,
    visited: ex.visited,
  };
}
