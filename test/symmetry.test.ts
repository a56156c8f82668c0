// Symmetry reduction: the group's elements are symmetries of the model (every transition and
// every property commutes with them, on random reachable states), and the reduced search is
// sound: on three small worlds with non-trivial groups (tiny's is the identity), for the real model and every
// seeded fault, it finds the same violated properties with counterexamples of the same length
// as the plain search, and its orbit sizes add up to the plain search's state count.

import { describe, expect, it } from "vitest";
import { PkvmState } from "../model/state.js";
import { World } from "../model/world.js";
import { PROPERTIES } from "../properties/registry.js";
import { alphabet } from "../src/alphabet.js";
import { resolveConfig } from "../src/configs.js";
import { Engine, type ModelVariant } from "../src/engine.js";
import { bfs } from "../src/explore/bfs.js";
import { Symmetry } from "../src/explore/symmetry.js";
import { FAULTS } from "../src/faults/registry.js";
import { world } from "./helpers.js";

/** Small worlds, each with a non-trivial group: pages, VM slots, vCPU slots. */
const SMALL = {
  // Two host pages in one segment, one-page blocks: they swap.
  pages: world({ pages: 3, hypPages: [0], blockPages: 1, maxShareCount: 2, vms: [{ protected: true, vcpus: 1, gfns: 1 }] }),
  // Two protected VM slots of one config: they swap (the adversary picks the handle).
  vms: world({ pages: 2, blockPages: 1, maxShareCount: 1, vms: [{ protected: true, vcpus: 1, gfns: 1 }, { protected: true, vcpus: 1, gfns: 1 }] }),
  // Two vCPUs of a non-protected VM, with the memcache.
  vcpus: world({ pages: 3, blockPages: 1, maxShareCount: 1, memcache: true, vms: [{ protected: false, vcpus: 2, gfns: 1 }] }),
};

/** Two 2-page blocks in regions of their own: they swap whole (too big to search per fault). */
const BLOCKS = world({ pages: 6, mmio: [[2, 4]], blockPages: 2, maxShareCount: 2, memcache: true, vms: [{ protected: false, vcpus: 1, gfns: 2 }] });

function randomWalkStates(w: World, variant: ModelVariant | undefined, count: number, seed: number): Uint32Array[] {
  const engine = new Engine(w, variant);
  const steps = alphabet(w);
  let x = seed;
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const out: Uint32Array[] = [];
  let s = engine.initial();
  while (out.length < count) {
    if (rand(40) === 0) s = engine.initial();
    const step = steps[rand(steps.length)];
    if (step.enabled && !step.enabled(new PkvmState(w, s))) continue;
    const r = engine.step(s, step);
    if (r.state.some((v, i) => v !== s[i])) out.push(r.state);
    s = r.state;
  }
  return out;
}

describe("the symmetry group", () => {
  it("is what the worlds allow: pages, VM slots, vCPU slots; trivial on tiny", () => {
    expect(new Symmetry(new World(resolveConfig("tiny").config)).group.length).toBe(1);
    expect(new Symmetry(SMALL.pages).group.length).toBe(2);
    expect(new Symmetry(SMALL.vms).group.length).toBe(4); // two pages x two slots
    expect(new Symmetry(SMALL.vcpus).group.length).toBe(12); // three pages x two vCPUs
    expect(new Symmetry(BLOCKS).group.length).toBe(2);
    expect(new Symmetry(new World(resolveConfig("default").config)).group.length).toBe(1); // one host block, VM slots of two kinds
  });

  for (const [name, w] of [...Object.entries(SMALL), ["blocks", BLOCKS] as const]) {
    it(`commutes with every transition and every property on random states of ${name}`, () => {
      const sym = new Symmetry(w);
      const engine = new Engine(w);
      const steps = alphabet(w);
      const image = new Uint32Array(w.words);
      const imagePost = new Uint32Array(w.words);
      let x = 7;
      for (const s of randomWalkStates(w, undefined, 150, 11)) {
        x = (x * 31 + 5) % 1000;
        const g = sym.group[1 + (x % (sym.group.length - 1))];
        sym.apply(g, s, image);
        for (const p of PROPERTIES.filter((q) => q.checkState)) {
          expect(p.checkState!(new PkvmState(w, image)) === null, p.id).toBe(p.checkState!(new PkvmState(w, s)) === null);
        }
        for (const step of steps) {
          const pre = new PkvmState(w, s);
          if (step.enabled && !step.enabled(pre)) continue;
          const r = engine.step(s, step);
          if (r.state.every((v, i) => v === s[i])) continue;
          sym.apply(g, r.state, imagePost);
          // Some step from the image reaches the image of the successor with the same return,
          // and every step property judges both transitions alike.
          const match = steps.find((b) => {
            if (b.action !== step.action || (b.enabled && !b.enabled(new PkvmState(w, image)))) return false;
            const rb = engine.step(image, b);
            return rb.ret === r.ret && rb.state.every((v, i) => v === imagePost[i]);
          });
          expect(match, `${step.action.name} ${JSON.stringify(step.args)}`).toBeDefined();
          for (const p of PROPERTIES.filter((q) => q.checkStep)) {
            const a = p.checkStep!(pre, step, r.ret, new PkvmState(w, r.state)) === null;
            const b = p.checkStep!(new PkvmState(w, image), match!, r.ret, new PkvmState(w, imagePost)) === null;
            expect(b, p.id).toBe(a);
          }
        }
      }
    });
  }
});

describe("the reduced search is sound", () => {
  it("on tiny: the group is the identity, so the reduced search is the plain one", () => {
    const sym = new Symmetry(new World(resolveConfig("tiny").config));
    expect(sym.trivial).toBe(true);
  });
  const worlds: [string, World][] = Object.entries(SMALL);
  // Levels are unions of orbits, so searches cut at one depth compare exactly too: vcpus (the
  // memcache) is cut at depth 7, past which some faults' worlds grow large.
  const maxDepth: Record<string, number | undefined> = { vcpus: 7 };
  const variants: [string, ModelVariant | undefined][] = [["real model", undefined], ...FAULTS.map((f): [string, ModelVariant] => [f.name, f.variant])];
  for (const [wname, w] of worlds) {
    it(`on ${wname}: same violations, same shortest lengths, orbit sizes add up (real model and every fault)`, () => {
      const steps = alphabet(w);
      const sym = new Symmetry(w);
      for (const [vname, variant] of variants) {
        const plain = bfs(new Engine(w, variant), steps, { properties: PROPERTIES, keepGoing: true, maxDepth: maxDepth[wname] });
        const reduced = bfs(new Engine(w, variant), steps, { properties: PROPERTIES, keepGoing: true, symmetry: sym, maxDepth: maxDepth[wname] });
        const summary = (r: typeof plain) => r.violations.map((v) => `${v.property}:${v.path.length}`).sort();
        expect(summary(reduced), `${wname} ${vname}`).toEqual(summary(plain));
        expect(reduced.unreducedStates, `${wname} ${vname}`).toBe(plain.states);
        // Each reduced counterexample is concrete: it replays to a violation of its property.
        for (const v of reduced.violations) {
          const engine = new Engine(w, variant);
          let s = engine.initial();
          let pre = s;
          let last;
          for (const i of v.path) {
            pre = s;
            last = engine.step(s, steps[i]);
            s = last.state;
          }
          const p = PROPERTIES.find((q) => q.id === v.property)!;
          const post = new PkvmState(w, s);
          const bad = (last && p.checkStep?.(new PkvmState(w, pre), steps[v.path[v.path.length - 1]], last.ret, post)) || p.checkState?.(post);
          expect(bad, `${wname} ${vname} ${v.property}`).toBeTruthy();
        }
      }
    }, 600_000);
  }
});
