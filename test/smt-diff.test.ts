// One source of truth: the SMT encoding of every transition against the reference engine, on
// random reachable (state, step) pairs. z3 must find the engine's successor and return admitted
// by the encoded relation, and no other.

import { beforeAll, describe, expect, it } from "vitest";
import { formatStep } from "../model/actions.js";
import { World } from "../model/world.js";
import { resolveConfig } from "../src/configs.js";
import { DifferentialCheck } from "../src/smt/differential.js";
import { SMT_TRANSITIONS } from "../src/smt/transitions.js";
import { randomSamples, type Sample } from "../src/smt/walk.js";
import { Smt, z3 } from "../src/smt/z3.js";
import { TEST_WORLD } from "./helpers.js";

let smt: Smt;
beforeAll(async () => {
  smt = new Smt(await z3());
}, 30_000);

const worldOf = (name: string | object) => new World(resolveConfig(name).config);

/** The (action, return) pairs a sample set exercises. */
function coverage(samples: readonly Sample[]): Set<string> {
  return new Set(samples.map((s) => `${s.step.action.name} ${s.ret}`));
}

function describeMismatches(ms: readonly Sample[]): string[] {
  return ms.slice(0, 5).map((s) => `${formatStep(s.step)} -> ${s.ret}`);
}

describe("SMT encoding agrees with the reference engine", () => {
  it("on 10,000 random steps of tiny and default (finite encoding, sat and unsat)", async () => {
    const runs = [
      { w: worldOf("tiny"), n: 6000, seed: 1 },
      { w: worldOf("default"), n: 4000, seed: 2 },
    ];
    let checked = 0;
    const seen = new Set<string>();
    for (const { w, n, seed } of runs) {
      const samples = randomSamples(w, { seed, samples: n });
      coverage(samples).forEach((c) => seen.add(c));
      const r = await new DifferentialCheck(smt, w).check(samples);
      expect(describeMismatches(r.mismatches)).toEqual([]);
      checked += r.checked;
    }
    expect(checked).toBeGreaterThanOrEqual(10_000);
    // Every encoded action is exercised, with its success and some of its errors.
    for (const name of Object.keys(SMT_TRANSITIONS)) expect([...seen].some((c) => c.startsWith(`${name} `)), name).toBe(true);
    expect(seen.size).toBeGreaterThan(55);
  }, 120_000);

  it("on a wider world: NOMAP, MMIO between regions, two vCPUs", async () => {
    const w = worldOf(TEST_WORLD);
    const r = await new DifferentialCheck(smt, w).check(randomSamples(w, { seed: 3, samples: 1500 }));
    expect(describeMismatches(r.mismatches)).toEqual([]);
  }, 60_000);

  it("with the unbounded encoding (quantifiers and lambdas) too", async () => {
    const w = worldOf("tiny");
    const r = await new DifferentialCheck(smt, w, true).check(randomSamples(w, { seed: 4, samples: 600 }), 50);
    expect(describeMismatches(r.mismatches)).toEqual([]);
  }, 60_000);

  it("notices a wrong return or a wrong successor", async () => {
    const w = worldOf("tiny");
    const samples = randomSamples(w, { seed: 5, samples: 300 });
    const wrongRet = samples.filter((s) => s.ret === "0").slice(0, 5).map((s): Sample => ({ ...s, ret: "-EPERM" }));
    const wrongPost = samples.slice(0, 5).map((s): Sample => {
      const post = s.post.slice();
      post[1] ^= 1; // page 0's host state
      return { ...s, post };
    });
    const r = await new DifferentialCheck(smt, w).check([...samples, ...wrongRet, ...wrongPost]);
    expect(r.mismatches).toHaveLength(wrongRet.length + wrongPost.length);
  }, 60_000);
});
