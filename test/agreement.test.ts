// The random and the exhaustive engine agree on tiny: they step the same alphabet on the same
// reference engine, so every state a random run reaches is one the exhaustive search reaches,
// and a planted fault is found by both, the exhaustive search's trace being a shortest one.

import { describe, expect, it } from "vitest";
import type { Args } from "../model/args.js";
import { OK } from "../model/errno.js";
import { host_force_reclaim_page_guest } from "../model/guest_donate.js";
import type { Pkvm } from "../model/pkvm.js";
import { World } from "../model/world.js";
import { PROPERTIES } from "../properties/registry.js";
import { alphabet } from "../src/alphabet.js";
import { resolveConfig } from "../src/configs.js";
import { Engine, type ModelVariant } from "../src/engine.js";
import { bfs } from "../src/explore/bfs.js";
import { randomExplore } from "../src/explore/random.js";
import { FP, fingerprint } from "../src/hash.js";

/** Force reclaim that hands the page to the host with the guest's data still in it. */
const FORCE_RECLAIM_NO_SCRUB: ModelVariant = {
  transitions: {
    host_force_reclaim_page_guest: (k: Pkvm, a: Args) => {
      if (a.pfn >= k.w.pages) return host_force_reclaim_page_guest(k, a);
      const [contents, vm] = [k.contents(a.pfn), k.contentsVm(a.pfn)];
      const ret = host_force_reclaim_page_guest(k, a);
      if (ret === OK) k.setContents(a.pfn, contents, vm);
      return ret;
    },
  },
};

const world = new World(resolveConfig("tiny").config);
/** no-hyp-panic is violated by the real model (a host-triggerable WARN): it would be found first. */
const SOUND = PROPERTIES.filter((p) => p.id !== "no-hyp-panic");
const steps = alphabet(world);

describe("random and exhaustive engines on tiny", () => {
  it("every state a random run reaches is in the exhaustive search's visited set", () => {
    const engine = new Engine(world);
    const exhaustive = bfs(engine, steps, { properties: [] });
    expect(exhaustive.stop).toBe("complete");
    let reached = 0;
    let outside = 0;
    const random = randomExplore(engine, steps, {
      properties: [],
      seed: 1,
      runs: 300,
      onNewState: (s) => {
        reached++;
        fingerprint(s);
        if (!exhaustive.visited.has(FP[0], FP[1])) outside++;
      },
    });
    expect(outside).toBe(0);
    expect(reached).toBe(random.distinctStates);
    expect(reached).toBeGreaterThan(1000); // a fair sample, not just the first few levels
  });

  it("a planted fault is found by both, the random trace no shorter than the exhaustive one", () => {
    const engine = new Engine(world, FORCE_RECLAIM_NO_SCRUB);
    const [exhaustive] = bfs(engine, steps, { properties: SOUND }).violations;
    const [random] = randomExplore(engine, steps, { properties: SOUND, seed: 1, runs: 500 }).violations;
    expect(exhaustive.property).toBe("scrub-before-return");
    expect(random.property).toBe(exhaustive.property);
    expect(random.steps.at(-1)!.action.name).toBe("host_force_reclaim_page_guest");
    expect(random.steps.length).toBeGreaterThanOrEqual(exhaustive.path.length);
    expect(random.steps.length).toBeLessThanOrEqual(exhaustive.path.length + 2);
  });
});
