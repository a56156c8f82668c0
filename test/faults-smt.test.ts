// Every seeded fault's SMT twin (src/faults/sym-view.ts) agrees with the fault itself: on random
// steps of the faulty engine, z3 confirms the faulty encoding admits exactly the faulty engine's
// successor and return. Each sample set must contain steps where the fault makes a difference,
// so agreement is not agreement on the real model alone.

import { beforeAll, describe, expect, it } from "vitest";
import { ACTION_BY_NAME, formatStep } from "../model/actions.js";
import { World } from "../model/world.js";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { traceFiles } from "../src/check/corpus.js";
import { Engine } from "../src/engine.js";
import type { Fault } from "../src/faults/fault.js";
import { killSmt } from "../src/faults/kill-smt.js";
import { FAULTS, faultByName } from "../src/faults/registry.js";
import { PROPERTIES } from "../properties/registry.js";
import { Prover } from "../src/smt/prove.js";
import { readTrace, type Trace } from "../src/trace.js";
import { DifferentialCheck } from "../src/smt/differential.js";
import { randomSamples, type Sample } from "../src/smt/walk.js";
import { Smt, z3 } from "../src/smt/z3.js";

let smt: Smt;
beforeAll(async () => {
  smt = new Smt(await z3());
}, 30_000);

const CORPUS = traceFiles(join(fileURLToPath(new URL("..", import.meta.url)), "counterexamples")).map(readTrace);

/** The fault's regression trace, run under the fault: its steps as samples. */
function traceSamples(w: World, fault: Fault, trace: Trace): Sample[] {
  const engine = new Engine(w, fault.variant);
  let pre = engine.initial();
  return trace.steps.map(({ step }) => {
    const r = engine.step(pre, step);
    const sample = { pre, step, ret: r.ret, post: r.state };
    pre = r.state;
    return sample;
  });
}

/** The steps a fault can change: its transitions, or every one for a kernel-wide fault. */
function touched(fault: Fault, s: Sample): boolean {
  return fault.variant.kernel !== undefined || s.step.action.name in (fault.variant.transitions ?? {});
}

/** Steps where the faulty engine and the real one part. */
function deviations(w: World, samples: readonly Sample[]): Sample[] {
  const real = new Engine(w);
  return samples.filter((s) => {
    const r = real.step(s.pre, s.step);
    return r.ret !== s.ret || r.state.some((x, i) => x !== s.post[i]);
  });
}

describe("each seeded fault's SMT twin agrees with the fault", () => {
  const stated = FAULTS.filter((f) => f.smt);

  it("every fault is stated symbolically, or says why it cannot be", () => {
    for (const f of FAULTS) expect(Boolean(f.smt) !== Boolean(f.smtNa), f.name).toBe(true);
    expect(stated.length).toBeGreaterThanOrEqual(18);
  });

  for (const fault of stated) {
    it(fault.name, async () => {
      // Random walks from the states of the fault's regression trace reach where it bites.
      const trace = CORPUS.find((t) => t.meta?.fault === fault.name)!;
      const w = new World(trace.config);
      const path = traceSamples(w, fault, trace);
      const walks = randomSamples(w, { seed: 7, samples: 20_000, variant: fault.variant, starts: [path[0].pre, ...path.map((s) => s.post)] });
      const samples = [...path, ...walks].filter((s) => touched(fault, s)).slice(0, 1500);
      expect(deviations(w, samples).length, "the samples exercise the fault").toBeGreaterThan(0);
      const r = await new DifferentialCheck(smt, w, false, fault.smt).check(samples);
      expect(r.mismatches.slice(0, 5).map((s) => `${formatStep(s.step)} -> ${s.ret}`)).toEqual([]);
    }, 120_000);
  }
});

describe("the SMT engine against seeded faults", () => {
  const ids = PROPERTIES.map((p) => p.id);
  const hunt = (name: string) => killSmt(faultByName(name)!, ids, 10_000);

  it("breaks the proof under B1 at host_unshare_hyp, with a counterexample the engine confirms", async () => {
    const k = await hunt("B1-unshare-hyp-no-hyp-check");
    expect(k).toMatchObject({ engine: "smt", caught: true, cti: { transition: "host_unshare_hyp" } });
    expect(k.cti!.cti.replay.violation).not.toBeNull();
  }, 120_000);

  it("catches a kernel-wide fault (B2: NOMAP is memory) in some transition", async () => {
    const k = await hunt("B2-nomap-allowed");
    expect(k.caught).toBe(true);
    expect(k.property).toBe("nomap-stays-host");
  }, 300_000);

  it("credits a fault only with what the real model does not do: B12-force-reclaim-hyp-page's panic", async () => {
    const k = await hunt("B12-force-reclaim-hyp-page");
    expect(k).toMatchObject({ caught: true, property: "no-hyp-panic", cti: { transition: "host_force_reclaim_page_guest" } });
    const cti = k.cti!.cti;
    const w = new World(cti.config);
    const real = new Engine(w).step(Uint32Array.from(cti.pre), { action: ACTION_BY_NAME.get(cti.step.action)!, args: cti.step.args });
    expect(cti.replay.ret).toBe("PANIC");
    expect(real.ret).not.toBe("PANIC");
  }, 120_000);

  it("says why a fault has no SMT twin", async () => {
    const k = await hunt("B7-guest-map-enomem-late");
    expect(k).toMatchObject({ caught: false, stop: "n/a" });
    expect(k.na).toMatch(/memcache/);
  });

  it("finds nothing to credit on the real model's own transitions", async () => {
    const p = await Prover.create({ goals: ids.filter((id) => id !== "no-hyp-panic") });
    expect(await p.hunt(["host_unshare_hyp", "guest_unshare_host"])).toBeUndefined();
  }, 300_000);
});
