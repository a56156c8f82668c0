// The Quint simulator against pkvm-check on one small system: bench/quint/pkvm_small.qnt and the
// same subset of the model (host <-> hyp, FF-A, host accesses) on WORLD, with the same two
// invariants. Before timing anything it replays simulator traces through the reference engine
// and requires the same return and the same pages after every step, so both sides are known to
// run the same system. Then it prints steps per second of each and the ratios.
// Run: npx tsc -p . && node dist/bench/quint-compare.js   (QUINT=path to the quint binary)

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ACTION_BY_NAME, stepOf } from "../model/actions.js";
import { formatProt } from "../model/args.js";
import { parseWorldConfig } from "../model/config.js";
import { Contents, PageState, PkvmState, S2 } from "../model/state.js";
import { World } from "../model/world.js";
import { finding, type Property } from "../properties/property.js";
import { alphabet, type AlphabetStep } from "../src/alphabet.js";
import { Engine } from "../src/engine.js";
import { randomExplore } from "../src/explore/random.js";

const QUINT = process.env.QUINT ?? "/work/quint-env/node_modules/.bin/quint";
const SPEC = fileURLToPath(new URL("../../bench/quint/pkvm_small.qnt", import.meta.url));

/** The world of pkvm_small.qnt: pfn 3 MMIO, pfn 6 NOMAP, pfn 0 hyp-owned at boot, no VMs. */
const WORLD = new World(parseWorldConfig({ pages: 8, mmio: [[3, 4]], nomap: [6], hypPages: [0], blockPages: 2 }, "quint-compare"));
const SUBSET = [
  "host_share_hyp", "host_unshare_hyp", "host_donate_hyp", "hyp_pin_shared_mem", "hyp_unpin_shared_mem",
  "host_share_ffa", "host_unshare_ffa", "host_read", "host_write",
];

/** Steps per simulator sample (Quint's --max-steps, the random engine's maxSteps). */
const STEPS = 100;
/** Two sample counts: the difference of their wall times is simulation without Quint's startup. */
const SAMPLES = [50, 500];
/** Each timing is the fastest of this many runs: the machine is shared and noisy. */
const REPEATS = 2;
const AGREE_TRACES = 20;
const AGREE_STEPS = 200;
const OURS_MS = 10_000;

const HYP_BORROW: Property = {
  id: "hyp-borrow",
  description: "a page the hyp borrows is host SO and not also shared with FF-A (pkvm_small.qnt: hyp_borrow)",
  checkState(s) {
    for (let p = 0; p < s.w.pages; p++) {
      if (s.hypState(p) !== PageState.SHARED_BORROWED) continue;
      if (s.hostState(p) !== PageState.SHARED_OWNED || s.ffaShared(p)) return finding(`pfn ${p}: hyp SB, host ${PageState[s.hostState(p)]}`, { pages: [p] });
    }
    return null;
  },
};

const HOST_ACCESS_NOT_HYP: Property = {
  id: "host-access-not-hyp",
  description: "a page the host can reach is not hyp-owned (pkvm_small.qnt: host_access_not_hyp)",
  checkState(s) {
    for (let p = 0; p < s.w.pages; p++) {
      if (s.hostS2(p) !== S2.ANNOTATION && s.hypState(p) === PageState.OWNED) return finding(`pfn ${p}: hyp-owned, host-reachable`, { pages: [p] });
    }
    return null;
  },
};

const INVARIANTS = [HYP_BORROW, HOST_ACCESS_NOT_HYP];

function subsetAlphabet(): AlphabetStep[] {
  for (const name of SUBSET) if (!ACTION_BY_NAME.has(name)) throw new Error(`quint-compare: the model has no action ${name}`);
  return alphabet(WORLD).filter((s) => SUBSET.includes(s.action.name));
}

// ---- the Quint side --------------------------------------------------------------------------

interface QuintRun {
  wallMs: number;
  /** Quint's own timer of the simulation, from its "No violation found (N ms ...)" line. */
  simMs: number;
}

function quint(samples: number, steps: number, extra: string[] = []): QuintRun {
  const args = ["run", "--backend=typescript", `--max-samples=${samples}`, `--max-steps=${steps}`, "--invariant=invariants", "--seed=1", ...extra, SPEC];
  const t = performance.now();
  const r = spawnSync(QUINT, args, { encoding: "utf8" });
  const wallMs = performance.now() - t;
  const ok = /No violation found \((\d+)ms/.exec(r.stdout);
  if (r.status !== 0 || ok === null) {
    throw new Error(`quint-compare: ${QUINT} ${args.join(" ")} failed (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-2000)}`);
  }
  return { wallMs, simMs: Number(ok[1]) };
}

function fastest(samples: number): QuintRun {
  const runs = Array.from({ length: REPEATS }, () => quint(samples, STEPS));
  return runs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
}

// ---- agreement: Quint's traces replayed on the reference engine -------------------------------

/** An ITF value as plain data: integers as numbers, a variant as its tag or "TAG(value)". */
function plain(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  const o = v as Record<string, unknown>;
  if ("#bigint" in o) return Number(o["#bigint"]);
  if ("#map" in o) return (o["#map"] as [unknown, unknown][]).map(([k, x]) => [plain(k), plain(x)]);
  if ("tag" in o && "value" in o) {
    const value = plain(o.value);
    return typeof o.value === "object" && o.value !== null && "#tup" in o.value ? o.tag : `${o.tag}(${value})`;
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x)]));
}

/** A page of the reference engine's state, shaped like a page of pkvm_small.qnt. */
function pageView(k: PkvmState, p: number): Record<string, unknown> {
  const s2 = k.hostS2(p);
  return {
    contents: Contents[k.contents(p)],
    ffa_shared: k.ffaShared(p),
    host_stage2: s2 === S2.IDMAP ? `IDMAP(${formatProt(k.hostS2Prot(p))})` : S2[s2],
    host_state: PageState[k.hostState(p)],
    hyp_stage1_mapped: k.hypS1Mapped(p),
    hyp_state: PageState[k.hypState(p)],
    refcount: k.refcount(p),
  };
}

interface QuintState {
  page: [number, Record<string, unknown>][];
  last: { name: string; pfn: number; nr_pages: number; ret: string };
}

/** The first difference between a Quint state and the engine's, or null. */
function differs(k: PkvmState, q: QuintState): string | null {
  for (const [p, want] of q.page) {
    const got = pageView(k, p);
    for (const f of Object.keys(want)) if (got[f] !== want[f]) return `pfn ${p}.${f}: quint ${want[f]}, pkvm-check ${got[f]}`;
  }
  return null;
}

/** Replays simulator traces step by step; returns the steps compared and the returns seen per action. */
function agreement(): { steps: number; outcomes: Map<string, Set<string>> } {
  const dir = mkdtempSync(join(tmpdir(), "quint-compare-"));
  try {
    quint(AGREE_TRACES, AGREE_STEPS, [`--n-traces=${AGREE_TRACES}`, `--out-itf=${join(dir, "trace_{seq}.itf.json")}`]);
    const engine = new Engine(WORLD);
    const k = new PkvmState(WORLD);
    const outcomes = new Map(SUBSET.map((name) => [name, new Set<string>()]));
    let steps = 0;
    for (const file of readdirSync(dir)) {
      const states = (JSON.parse(readFileSync(join(dir, file), "utf8")) as { states: unknown[] }).states.map((s) => plain(s) as QuintState);
      k.s = engine.initial();
      states.forEach((q, i) => {
        const where = `${file} state ${i}`;
        if (i > 0) {
          const { name, pfn, nr_pages, ret } = q.last;
          const got = engine.applyInPlace(k.s, stepOf(name, { pfn, nr_pages }));
          if (got !== ret) throw new Error(`quint-compare: ${where}, ${name}(pfn=${pfn}, nr_pages=${nr_pages}): quint ${ret}, pkvm-check ${got}`);
          outcomes.get(name)!.add(ret);
          steps++;
        }
        const d = differs(k, q);
        if (d !== null) throw new Error(`quint-compare: ${where} after ${q.last.name}: ${d}`);
      });
    }
    return { steps, outcomes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the pkvm-check side ---------------------------------------------------------------------

/** --engine random restricted to the subset: steps per second, every invariant after every step. */
function randomEngine(steps: readonly AlphabetStep[]): { stepsPerSecond: number; steps: number } {
  const r = randomExplore(new Engine(WORLD), steps, { properties: INVARIANTS, seed: 1, runs: 1e9, maxSteps: STEPS, timeLimitMs: OURS_MS });
  if (r.violations.length > 0) throw new Error(`quint-compare: ${r.violations[0].property} violated: ${r.violations[0].finding.message}`);
  return { stepsPerSecond: r.stepsRun / (r.elapsedMs / 1000), steps: r.stepsRun };
}

/**
 * What Quint's simulator does, on the reference engine: samples of STEPS uniformly chosen
 * enabled steps from the initial state, both invariants checked after every step.
 */
function simulate(steps: readonly AlphabetStep[]): { stepsPerSecond: number; steps: number } {
  const engine = new Engine(WORLD);
  const k = new PkvmState(WORLD);
  let seed = 1;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let taken = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < OURS_MS) {
    k.s = engine.initial();
    for (let i = 0; i < STEPS; ) {
      const step = steps[rand(steps.length)];
      if (step.enabled && !step.enabled(k)) continue;
      engine.applyInPlace(k.s, step);
      for (const p of INVARIANTS) if (p.checkState!(k) !== null) throw new Error(`quint-compare: ${p.id} violated`);
      i++;
    }
    taken += STEPS;
  }
  return { stepsPerSecond: taken / ((performance.now() - t0) / 1000), steps: taken };
}

function main(): void {
  const steps = subsetAlphabet();
  const agree = agreement();
  console.log(`agreement: ${AGREE_TRACES} Quint traces, ${agree.steps} steps replayed on the reference engine: same returns, same pages`);
  for (const [name, rets] of agree.outcomes) console.log(`  ${name}: ${[...rets].sort().join(" ")}`);

  const [small, large] = SAMPLES.map(fastest);
  const quintRate = ((SAMPLES[1] - SAMPLES[0]) * STEPS) / ((large.wallMs - small.wallMs) / 1000);
  const quintOwn = (SAMPLES[1] * STEPS) / (large.simMs / 1000);
  const startupMs = small.wallMs - (SAMPLES[0] * STEPS * 1000) / quintRate;
  const ours = randomEngine(steps);
  const sim = simulate(steps);
  const r = (x: number) => Math.round(x);
  console.table([
    { engine: "quint run --backend=typescript (wall-time difference)", stepsPerSecond: r(quintRate), steps: (SAMPLES[1] - SAMPLES[0]) * STEPS },
    { engine: "quint run --backend=typescript (its own timer)", stepsPerSecond: r(quintOwn), steps: SAMPLES[1] * STEPS },
    { engine: "pkvm-check random engine (randomExplore)", stepsPerSecond: r(ours.stepsPerSecond), steps: ours.steps },
    { engine: "pkvm-check reference engine, Quint-style uniform simulation", stepsPerSecond: r(sim.stepsPerSecond), steps: sim.steps },
  ]);
  console.log(`quint startup (parse, typecheck, compile): ${r(startupMs)} ms`);
  console.log(`ratio, random engine / quint simulator: ${(ours.stepsPerSecond / quintRate).toFixed(0)}x`);
  console.log(`ratio, reference-engine simulation / quint simulator: ${(sim.stepsPerSecond / quintRate).toFixed(0)}x`);
}

if (!existsSync(QUINT)) {
  console.error(`quint-compare: no quint binary at ${QUINT}: set QUINT, or install it as bench/quint/README.md says`);
  process.exit(2);
}
try {
  main();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}
