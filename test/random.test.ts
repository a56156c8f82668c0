// The random engine: the real model passes, planted faults are found and shrunk to short traces
// that an independent replay confirms, and a seed (and a seed + path) always gives the same result.

import { describe, expect, it } from "vitest";
import { ACTIONS, formatStep, type Step } from "../model/actions.js";
import type { Args } from "../model/args.js";
import { EBUSY, OK } from "../model/errno.js";
import { guest_unshare_host } from "../model/guest_donate.js";
import type { Pkvm } from "../model/pkvm.js";
import { PageState, PkvmState } from "../model/state.js";
import { World } from "../model/world.js";
import { finding, type Property } from "../properties/property.js";
import { PROPERTIES } from "../properties/registry.js";
import { alphabet } from "../src/alphabet.js";
import { resolveConfig } from "../src/configs.js";
import { Engine, type ModelVariant } from "../src/engine.js";
import { randomExplore, shardSeed, type RandomOptions } from "../src/explore/random.js";
import { exploreModel, ModelViolation } from "../src/testing.js";

/** B1: the hyp-side state check skipped, so the host can unshare_hyp a page shared with FF-A or a guest. */
const UNSHARE_HYP_NO_HYP_CHECK: ModelVariant = {
  transitions: {
    host_unshare_hyp: (k: Pkvm, { pfn }: Args) => {
      const ret = k.hostCheckPageStateRange(pfn, 1, PageState.SHARED_OWNED);
      if (ret !== OK) return ret;
      if (k.refcount(pfn) !== 0) return EBUSY;
      k.setHypState(pfn, PageState.NOPAGE);
      k.setHostState(pfn, PageState.OWNED);
      return OK;
    },
  },
};

/** guest_unshare_host that leaves the host's idmap in place instead of restoring the guest annotation. */
const UNSHARE_KEEPS_IDMAP: ModelVariant = {
  transitions: {
    guest_unshare_host: (k: Pkvm, a: Args) => {
      const ret = guest_unshare_host(k, a);
      if (ret === OK) k.hostStage2Idmap(k.guestPfn(a.vm, a.gfn), 1);
      return ret;
    },
  },
};

/** Every property but no-hyp-panic, which the real model violates on purpose (see below). */
const SOUND = PROPERTIES.filter((p) => p.id !== "no-hyp-panic").map((p) => p.id);

/** Four host RAM pages: room for a VM and the pages it is given (literal, so built-in tuning cannot move it). */
const ROOMY = {
  pages: 8,
  mmio: [[6, 8]],
  nomap: [5],
  hypPages: [0],
  blockPages: 2,
  maxShareCount: 2,
  vms: [
    { protected: true, vcpus: 1, gfns: 2 },
    { protected: false, vcpus: 1, gfns: 2 },
  ],
};

function engineFor(config: string | object, variant?: ModelVariant): Engine {
  return new Engine(new World(resolveConfig(config).config), variant);
}

/** An oracle apart from the random engine: the first property a trace violates, and after which step. */
function firstViolation(engine: Engine, steps: readonly Step[]): { property: string; at: number } | null {
  let s = engine.initial();
  for (let at = 0; at < steps.length; at++) {
    const step = steps[at];
    const { state, ret } = engine.step(s, step);
    const pre = new PkvmState(engine.world, s);
    const post = new PkvmState(engine.world, state);
    for (const p of PROPERTIES) {
      const concerned = p.checkStep && (!p.actions || p.actions.includes(step.action.name));
      if ((concerned && p.checkStep!(pre, step, ret, post)) || p.checkState?.(post)) return { property: p.id, at };
    }
    s = state;
  }
  return null;
}

function caught(f: () => unknown): ModelViolation {
  try {
    f();
  } catch (e) {
    if (e instanceof ModelViolation) return e;
    throw e;
  }
  throw new Error("expected a violation");
}

describe("random engine", () => {
  it("finds no violation in the real model on tiny and default", () => {
    const tiny = exploreModel({ config: "tiny", properties: SOUND, runs: 500 });
    expect(tiny.stopReason).toBe("complete");
    expect(tiny.runs).toBe(500);
    expect(tiny.distinctStates).toBeGreaterThan(300);
    const def = exploreModel({ config: "default", properties: SOUND, runs: 300 });
    expect(def.violations).toEqual([]);
    expect(def.reached.guest).toEqual(["NOPAGE", "POISON", "OWNED", "SHARED_OWNED", "SHARED_BORROWED"]);
  });

  it("goes deep on wide: every page and VM state, guest transitions that succeed", () => {
    const r = exploreModel({ config: "wide", properties: SOUND, runs: 150 });
    expect(r.maxDepth).toBeGreaterThan(300);
    expect(r.reached).toEqual({
      host: ["NOPAGE", "OWNED", "SHARED_OWNED", "SHARED_BORROWED"],
      hyp: ["NOPAGE", "OWNED", "SHARED_BORROWED"],
      guest: ["NOPAGE", "POISON", "OWNED", "SHARED_OWNED", "SHARED_BORROWED"],
      vm: ["ABSENT", "LIVE", "DYING", "LOADED"],
    });
    const ACTIONS_THAT_SUCCEED = ["host_share_guest", "host_donate_guest", "guest_share_host", "guest_unshare_host", "host_reclaim_page_guest", "host_force_reclaim_page_guest", "finalize_teardown_vm"];
    for (const name of ACTIONS_THAT_SUCCEED) expect(r.coverage[ACTIONS.findIndex((a) => a.name === name)][0], name).toBeGreaterThan(0);
  });

  it("reports the kernel's host-triggerable WARN in test_clear_young as a two-step trace", () => {
    const { violation: v } = caught(() => exploreModel({ config: "tiny", properties: ["no-hyp-panic"] }));
    expect(v.steps.map((s) => s.action.name)).toEqual(["init_vm", "host_test_clear_young_guest"]);
    expect(v.returns).toEqual(["0", "PANIC"]);
  });

  it("finds a planted B1 (unshare_hyp without the hyp check) and shrinks it to a short trace", () => {
    const e = caught(() => exploreModel({ config: "tiny", properties: SOUND, variant: UNSHARE_HYP_NO_HYP_CHECK }));
    const steps = e.violation.steps;
    // Two steps through FF-A, or five through a guest share (init_vm, init_vcpu, vcpu_load, share).
    expect(steps.length).toBeLessThanOrEqual(5);
    expect(steps.at(-1)!.action.name).toBe("host_unshare_hyp");
    expect(firstViolation(engineFor("tiny", UNSHARE_HYP_NO_HYP_CHECK), steps)).toEqual({ property: e.violation.property, at: steps.length - 1 });
    expect(firstViolation(engineFor("tiny"), steps)).toBeNull();
    expect(e.message).toContain(`${steps.length}. ${formatStep(steps.at(-1)!)} -> 0`);
    expect(e.message).toContain(`seed: 42, path: "${e.violation.path}"`);
  });

  it("finds a planted guest_unshare_host that keeps the host mapped, through the whole VM lifecycle", () => {
    const { violation: v } = caught(() => exploreModel({ config: "tiny", properties: SOUND, variant: UNSHARE_KEEPS_IDMAP }));
    expect(v.steps.length).toBeLessThanOrEqual(7);
    expect(v.steps.at(-1)!.action.name).toBe("guest_unshare_host");
    expect(firstViolation(engineFor("tiny", UNSHARE_KEEPS_IDMAP), v.steps)).toEqual({ property: v.property, at: v.steps.length - 1 });
    expect(firstViolation(engineFor("tiny"), v.steps)).toBeNull();
  });
});

describe("exploreModel, the researchers' helper", () => {
  it("explores a property written inline and reports its minimal trace", () => {
    const neverSharedBack: Property = {
      id: "never-shared-back",
      description: "no protected guest ever shares a page with the host (false: a test of the helper)",
      checkState: (s) => (s.hostState(3) === PageState.SHARED_BORROWED ? finding("pfn 3 shared back", { pages: [3] }) : null),
    };
    const e = caught(() => exploreModel({ config: "tiny", properties: [neverSharedBack] }));
    expect(e.violation.steps.map((st) => st.action.name)).toEqual(["init_vm", "init_vcpu", "vcpu_load", "host_donate_guest", "guest_share_host"]);
    expect(e.message.split("\n")[0]).toBe("property never-shared-back violated on tiny after 5 step(s): pfn 3 shared back");
  });

  it("names the known properties when given an unknown id", () => {
    expect(() => exploreModel({ config: "tiny", properties: ["no-such-property"] })).toThrow(/no property no-such-property \(known: .*unique-owner/);
  });
});

describe("random engine determinism", () => {
  const explore = (opts: Partial<RandomOptions> & { seed: number }, variant?: ModelVariant) => {
    const engine = engineFor(ROOMY, variant);
    const r = randomExplore(engine, alphabet(engine.world), { properties: PROPERTIES.filter((p) => SOUND.includes(p.id)), runs: 40, ...opts });
    return { ...r, elapsedMs: 0, visited: r.visited.size };
  };

  it("gives the same result for the same seed, and another for another seed", () => {
    const a = explore({ seed: 7 });
    expect(explore({ seed: 7 })).toEqual(a);
    expect(explore({ seed: 8 }).distinctStates).not.toBe(a.distinctStates);
  });

  it("replays a violation from its seed and path alone", () => {
    const found = explore({ seed: 42 }, UNSHARE_KEEPS_IDMAP).violations[0];
    const again = explore({ seed: found.seed, path: found.path, maxSteps: found.maxSteps }, UNSHARE_KEEPS_IDMAP);
    expect(again.runs).toBe(1);
    expect(again.violations[0].steps).toEqual(found.steps);
  });

  it("gives each shard its own seed; shard 0 is the unsharded run", () => {
    const seeds = [0, 1, 2, 3].map((index) => shardSeed(5, { index, count: 4 }));
    expect(seeds[0]).toBe(5);
    expect(new Set(seeds).size).toBe(4);
    expect(explore({ seed: 5, shard: { index: 2, count: 4 } }).seed).toBe(seeds[2]);
  });

  it("stops at the time limit and says so", () => {
    const r = explore({ seed: 1, runs: 1e9, timeLimitMs: 300 });
    expect(r.stopReason).toBe("time-limit");
    expect(r.runs).toBeGreaterThan(0);
  });

  it("lets a model that throws fail the exploration with its own error", () => {
    const THROWS: ModelVariant = { transitions: { host_share_ffa: () => { throw new Error("model bug"); } } };
    expect(() => explore({ seed: 1 }, THROWS)).toThrow("model bug");
  });

  it("with keepGoing reports every violated property once", () => {
    const r = explore({ seed: 1, keepGoing: true, runs: 200 }, UNSHARE_HYP_NO_HYP_CHECK);
    const ids = r.violations.map((v) => v.property);
    expect(ids.length).toBeGreaterThan(1);
    expect(new Set(ids).size).toBe(ids.length);
    expect(r.stopReason).toBe("complete");
  });
});
