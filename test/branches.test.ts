// Branch coverage: the list of each transition's returns holds every return the engines see, the
// dead-branch report names what a world is too small for, and the coverage-guided walks reach
// the states the differential test needs (loaded vCPUs, borrowed blocks, a filled memcache).

import { memcacheWorld } from "./helpers.js";
import { describe, expect, it } from "vitest";
import { ACTIONS } from "../model/actions.js";
import { RETURNS } from "../model/errno.js";
import { PkvmState } from "../model/state.js";
import { World } from "../model/world.js";
import { resolveConfig } from "../src/configs.js";
import { BRANCHES, branchKey, deadBranches, exhaustiveBranches } from "../src/explore/branches.js";
import { branchCoverage, coverageSamples } from "../src/explore/coverage-walk.js";
import type { Sample } from "../src/smt/walk.js";

const worldOf = (name: string | object) => new World(resolveConfig(name).config);

const MEMCACHE_WORLD = memcacheWorld(10);

describe("the branches of each transition", () => {
  it("are listed for every action, each return once, success first", () => {
    for (const a of ACTIONS) {
      const rets = BRANCHES[a.name];
      expect(rets, a.name).toBeDefined();
      expect(new Set(rets).size, a.name).toBe(rets.length);
      expect(rets[0], a.name).toBe("0");
      for (const r of rets) expect(RETURNS, a.name).toContain(r);
    }
  });

  it("hold every branch the exhaustive search of tiny and the walks of tiny and a memcache world take", () => {
    const listed = new Set(Object.entries(BRANCHES).flatMap(([a, rets]) => rets.map((r) => branchKey(a, r))));
    const taken = [...exhaustiveBranches(worldOf("tiny")).reached];
    // The walks call hyp_donate_host too, which leaves states no host call can reach.
    for (const w of [worldOf("tiny"), worldOf(MEMCACHE_WORLD)]) taken.push(...coverageSamples(w, { seed: 7, perBranch: 5, maxStates: 3000 }).counts.keys());
    expect(taken.filter((b) => !listed.has(b))).toEqual([]);
  }, 120_000);

  it("that the exhaustive search of tiny never takes are its dead branches", () => {
    const w = worldOf("tiny");
    const dead = new Map(deadBranches(w, exhaustiveBranches(w).reached).map((d) => [d.action, d.dead]));
    // Dead by the hyp's discipline (pins bounded, unpins only of its pins) and by a world with no
    // memcache; a block share needs two aligned free pages, which tiny has not.
    expect(dead.get("hyp_unpin_shared_mem")).toEqual(["PANIC"]);
    expect(dead.get("host_share_guest")).toEqual(["-ENOMEM"]);
    expect(dead.get("guest_share_host")).toContain("-E2BIG");
    expect(dead.has("hyp_donate_host")).toBe(false); // not in the alphabet without --allow-internal
    expect(dead.has("host_read")).toBe(false);
  }, 60_000);
});

describe("the coverage-guided walks", () => {
  it("sample every branch they meet, with loaded vCPUs, borrowed blocks and a filled memcache", () => {
    const w = worldOf(MEMCACHE_WORLD);
    const walk = coverageSamples(w, { seed: 3, perBranch: 10, maxStates: 5000 });
    const cov = branchCoverage(walk, new Set(), 10);
    expect(cov.unsampled).toEqual([]);
    const pre = (s: { pre: Uint32Array }) => new PkvmState(w, s.pre);
    expect(walk.samples.filter((s) => pre(s).loadedVm() >= 0).length).toBeGreaterThan(walk.samples.length / 10);
    expect(walk.samples.some((s) => pre(s).memcacheCount(0, 0) > 1 || pre(s).memcacheCount(1, 0) > 1)).toBe(true);
    const borrowsBlock = (s: Sample) => [0, 2].some((g) => pre(s).guestBlock(1, g));
    expect(walk.samples.filter(borrowsBlock).length).toBeGreaterThan(10);
    for (const b of ["host_share_guest 0", "host_donate_guest 0", "guest_share_host 0", "guest_unshare_host 0", "host_share_guest -ENOMEM"]) {
      expect(walk.counts.get(b), b).toBeGreaterThanOrEqual(10);
    }
  }, 120_000);

  it("reach every branch of the exhaustive search of default, which random walks miss", () => {
    const w = worldOf("default");
    const exhaustive = exhaustiveBranches(w).reached;
    const walk = coverageSamples(w, { seed: 5, perBranch: 10, targets: exhaustive });
    expect(branchCoverage(walk, exhaustive, 10).short).toEqual([]);
    expect(walk.counts.get("host_force_reclaim_page_guest -ENOENT")).toBeGreaterThanOrEqual(10); // a stale annotation, 9 steps deep
  }, 120_000);

  it("are reproducible from their seed", () => {
    const w = worldOf("tiny");
    const a = coverageSamples(w, { seed: 9, perBranch: 3, maxStates: 1000 });
    const b = coverageSamples(w, { seed: 9, perBranch: 3, maxStates: 1000 });
    expect(b.samples.map((s) => `${s.step.action.name} ${s.ret}`)).toEqual(a.samples.map((s) => `${s.step.action.name} ${s.ret}`));
  }, 60_000);
});
