// Benchmark of the random engine on `wide` (64 pages, 4 VMs, the memcache): steps per second
// with every property checked after every step, and the time to the first counterexample of a
// planted fault that only a deep run reaches (a VM built, a page donated and written by the
// guest, the VM torn down and the page reclaimed unscrubbed). Run: node dist/bench/random-bench.js

import { pathToFileURL } from "node:url";
import type { Args } from "../model/args.js";
import { OK } from "../model/errno.js";
import { host_reclaim_page_guest } from "../model/guest_donate.js";
import type { Pkvm } from "../model/pkvm.js";
import { World } from "../model/world.js";
import { PROPERTIES } from "../properties/registry.js";
import type { WorldConfig } from "../model/config.js";
import { AlphabetSpace } from "../src/alphabet.js";
import { resolveConfig } from "../src/configs.js";
import { Engine, type ModelVariant } from "../src/engine.js";
import { randomExplore } from "../src/explore/random.js";

/** host_reclaim_page_guest that gives the host a guest-owned page without zeroing it. */
const RECLAIM_NO_SCRUB: ModelVariant = {
  transitions: {
    host_reclaim_page_guest: (k: Pkvm, a: Args) => {
      if (a.gfn >= k.w.config.vms[a.vm].gfns) return host_reclaim_page_guest(k, a);
      const pfn = k.guestPfn(a.vm, a.gfn);
      const [contents, vm] = [k.contents(pfn), k.contentsVm(pfn)];
      const ret = host_reclaim_page_guest(k, a);
      if (ret === OK) k.setContents(pfn, contents, vm);
      return ret;
    },
  },
};

/** The real model violates no-hyp-panic (a host-triggerable WARN): a run would stop there. */
const SOUND = PROPERTIES.filter((p) => p.id !== "no-hyp-panic");

export interface RandomBenchFigures {
  config: string;
  stepsPerSecond: number;
  steps: number;
  runs: number;
  distinctStates: number;
  /** One per seed: time to the shrunk counterexample, runs until the failing one, trace length. */
  fault: { seed: number; ms: number; runs: number; steps: number; property: string }[];
}

/**
 * A realistic world: `wide`'s four VMs and memcache over 4,096 pages (the last 96 MMIO, two
 * NOMAP, two hyp pages). The random engine's cost per step must not grow with the pages: it runs
 * this world at no less than a quarter of its steps per second on `wide` (issue 15).
 */
export const WIDE_4096: WorldConfig = {
  ...resolveConfig("wide").config,
  pages: 4096,
  mmio: [[4000, 4096]],
  nomap: [3998, 3999],
  hypPages: [0, 1],
};

/** Steps per second of the random engine with every sound property, for `ms` on one seed. */
export function randomThroughput(config: WorldConfig, ms: number): { stepsPerSecond: number; steps: number; runs: number; distinctStates: number } {
  const world = new World(config);
  const r = randomExplore(new Engine(world), new AlphabetSpace(world), { properties: SOUND, seed: 1, runs: 1e9, timeLimitMs: ms });
  return { stepsPerSecond: Math.round(r.stepsRun / (r.elapsedMs / 1000)), steps: r.stepsRun, runs: r.runs, distinctStates: r.distinctStates };
}

export function randomBench(config = "wide", throughputMs = 10_000, seeds = [1, 2, 3, 4, 5]): RandomBenchFigures {
  const world = new World(resolveConfig(config).config);
  const steps = new AlphabetSpace(world);
  const r = randomExplore(new Engine(world), steps, { properties: SOUND, seed: 1, runs: 1e9, timeLimitMs: throughputMs });
  const faulty = new Engine(world, RECLAIM_NO_SCRUB);
  const fault = seeds.map((seed) => {
    const f = randomExplore(faulty, steps, { properties: SOUND, seed, runs: 100_000 });
    const v = f.violations[0];
    return { seed, ms: f.elapsedMs, runs: v ? Number(v.path.split(":")[0]) + 1 : f.runs, steps: v?.steps.length ?? 0, property: v?.property ?? "none" };
  });
  return {
    config,
    stepsPerSecond: Math.round(r.stepsRun / (r.elapsedMs / 1000)),
    steps: r.stepsRun,
    runs: r.runs,
    distinctStates: r.distinctStates,
    fault,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const b = randomBench();
  console.log(`random engine on ${b.config}: ${b.stepsPerSecond} steps/s (${b.steps} steps, ${b.runs} runs, ${b.distinctStates} distinct states)`);
  for (const f of b.fault) {
    console.log(`planted fault (reclaim without scrub), seed ${f.seed}: ${f.property} after ${f.ms} ms, run ${f.runs}, shrunk to ${f.steps} steps`);
  }
  const ms = b.fault.map((f) => f.ms).sort((x, y) => x - y);
  console.log(`time to first counterexample: median ${ms[ms.length >> 1]} ms`);
}
