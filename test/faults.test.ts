// Seeded faults: the exhaustive search catches every fault but the documented escape, each
// fault's counterexample in the regression corpus still shows it and shows nothing on the real
// model, and the real model's known findings are never credited to a fault.

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { stepOf } from "../model/actions.js";
import { PkvmState } from "../model/state.js";
import { World } from "../model/world.js";
import { PROPERTIES, propertyById } from "../properties/registry.js";
import { alphabet } from "../src/alphabet.js";
import { readBaseline } from "../src/check/baseline.js";
import { traceFiles } from "../src/check/corpus.js";
import { resolveConfig } from "../src/configs.js";
import { Engine } from "../src/engine.js";
import { bfs } from "../src/explore/bfs.js";
import { bfsConfig, kill } from "../src/faults/kill.js";
import { maskRealModelFindings } from "../src/faults/known.js";
import { FAULTS, faultByName, faultLookup } from "../src/faults/registry.js";
import { replay } from "../src/replay.js";
import { readTrace } from "../src/trace.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BASELINE = readBaseline(join(ROOT, "findings/known-findings.json"));
const CHECKED = maskRealModelFindings(PROPERTIES, BASELINE);


describe("the fault registry", () => {
  it("has a fault for every bug of semantics 7 the model can express, each named after its bug", () => {
    const bugs = new Set(FAULTS.map((f) => f.bug));
    for (const b of ["B1", "B2", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11", "B12"]) expect(bugs).toContain(b);
    expect(FAULTS.filter((f) => f.bug === "B12").length).toBeGreaterThanOrEqual(5);
    expect(new Set(FAULTS.map((f) => f.name)).size).toBe(FAULTS.length);
    for (const f of FAULTS) expect(f.name.startsWith(f.bug === "new" ? "N" : `${f.bug}-`), f.name).toBe(true);
  });
});

describe("every fault is caught by the exhaustive search", () => {
  for (const fault of FAULTS) {
    it(fault.name, () => {
      // The limit is a safety net: a search stops at its first counterexample, later on a loaded machine.
      const k = kill(fault, "bfs", CHECKED, { bfsTimeLimitMs: 600_000, seed: 0, randomRuns: 0, randomTimeLimitMs: 0 });
      expect(k.caught, `${fault.name} escaped bfs on ${k.config} (${k.stop})`).toBe(true);
      expect(k.steps).toBeLessThanOrEqual(8);
      const trace = k.trace!;
      expect(replay(trace).violations, "the real model violates nothing on it").toEqual([]);
      expect(replay(trace, { variant: fault.variant }).violations.map((v) => v.property)).toContain(k.property);
    }, 900_000);
  }

  it("B2 in one step: the fault donates a NOMAP page the real model refuses", () => {
    const fault = faultByName("B2-nomap-allowed")!;
    const world = new World(bfsConfig(fault).config);
    const nomap = world.config.nomap[0];
    const real = new Engine(world);
    const faulty = new Engine(world, fault.variant);
    const donate = stepOf("host_donate_hyp", { pfn: nomap, nr_pages: 1 });
    expect(real.step(real.initial(), donate).ret).toBe("-EPERM");
    expect(faulty.step(faulty.initial(), donate).ret).toBe("0");
    const r = bfs(faulty, alphabet(world), { properties: CHECKED, maxDepth: 4 });
    expect(r.violations.map((v) => [v.property, v.path.length])).toEqual([["nomap-stays-host", 1]]);
  });
});

describe("the real model's known findings are not credited to a fault", () => {
  const panic = propertyById("no-hyp-panic")!;
  const masked = CHECKED.find((p) => p.id === panic.id)!;

  /** The masked no-hyp-panic's finding on the last of `steps`, run from `config`'s initial state. */
  function lastStepFinding(config: string, steps: [string, object][], fault?: string) {
    const world = new World(resolveConfig(config).config);
    const engine = new Engine(world, fault ? faultByName(fault)!.variant : undefined);
    let state = engine.initial();
    for (const [name, args] of steps.slice(0, -1)) state = engine.step(state, stepOf(name, args)).state;
    const [name, args] = steps[steps.length - 1];
    const step = stepOf(name, args);
    const r = engine.step(state, step);
    expect(panic.checkStep!(new PkvmState(world, state), step, r.ret, new PkvmState(world, r.state))).not.toBeNull();
    return masked.checkStep!(new PkvmState(world, state), step, r.ret, new PkvmState(world, r.state));
  }

  it("masks a panic the real model has on the same step", () => {
    // test-clear-young-erange-panic, under a fault that has nothing to do with it.
    const steps: [string, object][] = [
      ["init_vm", { vm: 1, pfn: 1 }],
      ["host_test_clear_young_guest", { vm: 1, gfn: 3, nr_pages: 1, mkold: true }],
    ];
    expect(lastStepFinding("default", steps, "B1-unshare-hyp-no-hyp-check")).toBeNull();
  });

  it("credits a panic of the same action that the real model does not have", () => {
    const steps: [string, object][] = [
      ["init_vm", { vm: 0, pfn: 1 }],
      ["init_vcpu", { vm: 0, vcpu: 0, pfn: 2 }],
      ["vcpu_load", { vm: 0, vcpu: 0 }],
      ["host_donate_guest", { vm: 0, pfn: 3, gfn: 0 }],
      ["host_force_reclaim_page_guest", { pfn: 0 }],
    ];
    expect(lastStepFinding("default", steps, "B12-force-reclaim-hyp-page")?.message).toMatch(/host_force_reclaim_page_guest\(pfn=0\) made the hypervisor panic/);
  });
});

describe("the regression corpus", () => {
  const files = traceFiles(join(ROOT, "counterexamples")).filter((f) => typeof readTrace(f).meta?.fault === "string");

  it("keeps a counterexample of every fault", () => {
    const kept = new Set(files.map((f) => readTrace(f).meta!.fault));
    for (const f of FAULTS) expect(kept, f.name).toContain(f.name);
  });

  it("each violates its property under its fault, and nothing on the real model", () => {
    for (const file of files) {
      const trace = readTrace(file);
      const variant = faultLookup(trace.meta!.fault as string);
      expect(variant, `${file}: meta.fault names no fault`).toBeDefined();
      expect(replay(trace).violations.map((v) => v.property), file).toEqual([]);
      expect(replay(trace, { variant }).violations.map((v) => v.property), file).toContain(trace.violation!.property);
    }
  });
});
