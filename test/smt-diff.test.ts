// One source of truth: the SMT encoding of every transition against the reference engine, on
// reachable (state, step) pairs: on tiny and default, PER_BRANCH samples of every (action, return)
// branch the exhaustive search or the guided walks reach (the test fails below 100%); elsewhere
// random ones. z3 must find the engine's successor and return admitted by the encoded relation,
// and no other.

import { beforeAll, describe, expect, it } from "vitest";
import { formatStep } from "../model/actions.js";
import { World } from "../model/world.js";
import { resolveConfig } from "../src/configs.js";
import { exhaustiveBranches } from "../src/explore/branches.js";
import { branchCoverage, coverageSamples } from "../src/explore/coverage-walk.js";
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

/** Samples wanted of each branch. */
const PER_BRANCH = 30;

/** The (action, return) pairs a sample set exercises. */
function coverage(samples: readonly Sample[]): Set<string> {
  return new Set(samples.map((s) => `${s.step.action.name} ${s.ret}`));
}

function describeMismatches(ms: readonly Sample[]): string[] {
  return ms.slice(0, 5).map((s) => `${formatStep(s.step)} -> ${s.ret}`);
}

describe("SMT encoding agrees with the reference engine", () => {
  it("on every reachable (action, return) branch of tiny and default, sampled by coverage (finite encoding, sat and unsat)", async () => {
    const runs = [
      { name: "tiny", seed: 1 },
      { name: "default", seed: 2 },
    ];
    const seen = new Set<string>();
    for (const { name, seed } of runs) {
      const w = worldOf(name);
      const exhaustive = exhaustiveBranches(w).reached;
      const walk = coverageSamples(w, { seed, perBranch: PER_BRANCH, targets: exhaustive });
      const cov = branchCoverage(walk, exhaustive, PER_BRANCH);
      console.log(`smt-diff on ${name}: ${cov.summary}`);
      expect(cov.unsampled, `${name}: reachable branches never sampled`).toEqual([]);
      expect(cov.short, `${name}: branches of the exhaustive search sampled fewer than ${PER_BRANCH} times`).toEqual([]);
      coverage(walk.samples).forEach((c) => seen.add(c));
      const r = await new DifferentialCheck(smt, w).check(walk.samples);
      expect(describeMismatches(r.mismatches)).toEqual([]);
    }
    // Every encoded action is exercised, with its success and some of its errors.
    for (const name of Object.keys(SMT_TRANSITIONS)) expect([...seen].some((c) => c.startsWith(`${name} `)), name).toBe(true);
  }, 300_000);

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
