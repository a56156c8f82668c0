// `npm run bench`: the figures users judge a model checker by. Each exhaustive search runs in a
// child process of its own, so that its peak RSS is its own. Time bounds live here, not in the
// tests: the machines are shared and noisy, so read the figures, don't gate on them.

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PROPERTIES, TEMPORAL_PROPERTIES } from "../properties/registry.js";
import { alphabet } from "../src/alphabet.js";
import { resolveConfig } from "../src/configs.js";
import { Engine } from "../src/engine.js";
import { bfs } from "../src/explore/bfs.js";
import { TemporalCheck } from "../src/explore/temporal-properties.js";
import { World } from "../model/world.js";
import { randomBench, randomThroughput, WIDE_4096 } from "./random-bench.js";

const self = fileURLToPath(import.meta.url);
const smtBench = fileURLToPath(new URL("./smt-bench.js", import.meta.url));

/** A deterministic PRNG (mulberry32), so that every run measures the same steps. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reference-engine steps per second on random sequences of the config's alphabet. */
function engineSteps(config: string, steps: number): Record<string, number | string> {
  const world = new World(resolveConfig(config).config);
  const engine = new Engine(world);
  const al = alphabet(world);
  const rand = prng(1);
  const picks = Array.from({ length: steps }, () => al[Math.floor(rand() * al.length)]);
  let state = engine.initial();
  let t = performance.now();
  for (const s of picks) state = engine.step(state, s).state; // the pure step: one clone each
  const pure = steps / ((performance.now() - t) / 1000);
  state = engine.initial();
  t = performance.now();
  for (const s of picks) engine.applyInPlace(state, s);
  const inPlace = steps / ((performance.now() - t) / 1000);
  return {
    config,
    stateBytes: world.words * 4,
    alphabet: al.length,
    pureStepsPerSecond: Math.round(pure),
    inPlaceStepsPerSecond: Math.round(inPlace),
  };
}

/**
 * One exhaustive search with every property, in this (child) process; with `temporal`, the
 * temporal properties too: the state graph's edges, its bytes per edge (target and action,
 * growth slack included) and per state (row offset and labels; the visited set's state index
 * is in visitedBytesPerState), and the time of the analyses after the search.
 */
function bfsFigures(config: string, temporal: boolean): Record<string, number | string> {
  const world = new World(resolveConfig(config).config);
  const steps = alphabet(world);
  const check = temporal ? new TemporalCheck(world, TEMPORAL_PROPERTIES) : undefined;
  const r = bfs(new Engine(world), steps, { properties: PROPERTIES, keepGoing: true, graph: check?.builder });
  const seconds = r.elapsedMs / 1000;
  let graph: Record<string, number> = {};
  if (check) {
    const t0 = performance.now();
    const g = check.builder.freeze(r.states);
    check.violations(g, steps, (i) => r.visited.pathTo(i));
    const bytes = g.bytes();
    graph = {
      edges: g.edges,
      edgeBytes: Number(bytes.perEdge.toFixed(1)),
      graphBytesPerState: Number(bytes.perState.toFixed(1)),
      temporalSeconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
    };
  }
  return {
    config,
    temporal: temporal ? "yes" : "no",
    stop: r.stop,
    states: r.states,
    transitions: r.transitions,
    depth: r.depth,
    seconds: Number(seconds.toFixed(2)),
    statesPerSecond: Math.round(r.states / seconds),
    transitionsPerSecond: Math.round(r.transitions / seconds),
    visitedBytesPerState: Number(r.bytesPerState.visited.toFixed(1)),
    linkBytesPerState: r.bytesPerState.links,
    ...graph,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function table(title: string, rows: Record<string, number | string>[]): void {
  console.log(`\n${title}`);
  console.table(rows);
}

if (process.argv[2] === "--bfs") {
  process.stdout.write(JSON.stringify(bfsFigures(process.argv[3], process.argv[4] === "temporal")));
} else {
  table("reference engine, random action sequences", [engineSteps("tiny", 1_000_000), engineSteps("wide", 1_000_000)]);
  const search = (c: string, mode: string) => JSON.parse(execFileSync(process.execPath, [self, "--bfs", c, mode], { encoding: "utf8" }));
  const searches = ["tiny", "default"].flatMap((c) => [search(c, "safety"), search(c, "temporal")]);
  table("exhaustive search (bfs), every property; then with the temporal properties' state graph", searches);
  const r = randomBench();
  table(`random engine on ${r.config}, every property but no-hyp-panic`, [
    { stepsPerSecond: r.stepsPerSecond, steps: r.steps, runs: r.runs, distinctStates: r.distinctStates },
  ]);
  table("random engine: time to the first counterexample of a planted fault (reclaim without scrubbing)", r.fault);
  // Realistic worlds: measured side by side, alternating, so that the ratio is fair on a loaded machine.
  const rounds = [0, 1].map(() => [randomThroughput(resolveConfig("wide").config, 5_000), randomThroughput(WIDE_4096, 5_000)]);
  const rate = (i: number) => rounds.reduce((n, r) => n + r[i].stepsPerSecond, 0) / rounds.length;
  table("random engine, every property but no-hyp-panic: wide against 4,096 pages (same VMs), 2 x 5 s each", [
    { world: "wide (64 pages)", stepsPerSecond: Math.round(rate(0)) },
    { world: "4,096 pages", stepsPerSecond: Math.round(rate(1)), ratio: Number((rate(1) / rate(0)).toFixed(2)) },
  ]);
  // The gate's proofs, per transition and in total (its own process: one z3 context each).
  console.log("\nSMT: the headline properties and the invariants they rest on, every memory size");
  execFileSync(process.execPath, [smtBench, "--goals", "host-cannot-access-guest,guest-cannot-access-host", "--timeout", "30000", "--bmc", "3"], {
    stdio: ["ignore", "inherit", "ignore"],
  });
}
