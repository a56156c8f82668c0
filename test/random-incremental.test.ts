// The random engine's cost per step follows what the step changed (issue 15): these tests hold
// each shortcut to the full computation it replaces. The write log and the step delta against a
// comparison of whole states; the narrowed state checks against full checks, on the real model
// and on every seeded fault (which make the violating states); the page pools' indexed sets
// against a scan; the additive fingerprint against one computed from scratch.

import { describe, expect, it } from "vitest";
import { PkvmState } from "../model/state.js";
import { World } from "../model/world.js";
import { withStepChange } from "../properties/lib/pages.js";
import { PROPERTIES } from "../properties/registry.js";
import { AlphabetSpace, alphabet } from "../src/alphabet.js";
import { resolveConfig } from "../src/configs.js";
import { Engine, type ModelVariant } from "../src/engine.js";
import { PageSet } from "../src/explore/page-set.js";
import * as P from "../src/explore/random-pools.js";
import { StepDelta } from "../src/explore/step-delta.js";
import { FAULTS } from "../src/faults/registry.js";
import { AdditiveFingerprint } from "../src/hash.js";
import { prng } from "../src/smt/walk.js";


const STATE_PROPS = PROPERTIES.filter((p) => p.checkState);

/**
 * Random walks of `n` steps on a world (restarting now and then), calling `visit` after each step
 * with the states before and after, the delta read off the write log, and the delta of a full comparison.
 */
function walk(world: World, variant: ModelVariant | undefined, n: number, seed: number, visit: (pre: PkvmState, post: PkvmState, logged: StepDelta, full: StepDelta) => boolean): void {
  const engine = new Engine(world, variant);
  const steps = alphabet(world);
  const rnd = prng(seed);
  const pre = new PkvmState(world, engine.initial());
  const post = new PkvmState(world, engine.initial());
  const logged = new StepDelta(world);
  const full = new StepDelta(world);
  const log = new Int32Array(1 << 12);
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.01) post.s.set(engine.initial());
    pre.s.set(post.s);
    const step = steps[Math.floor(rnd() * steps.length)];
    if (step.enabled && !step.enabled(post)) continue;
    PkvmState.writeLog = log;
    PkvmState.logged = 0;
    try {
      engine.applyInPlace(post.s, step);
    } finally {
      PkvmState.writeLog = null;
    }
    logged.compute(pre.s, post.s, log, PkvmState.logged);
    full.compute(pre.s, post.s);
    if (!visit(pre, post, logged, full)) post.s.set(engine.initial());
  }
}

const sorted = (a: Int32Array) => Array.from(a).sort((x, y) => x - y);
const wide = new World(resolveConfig("wide").config);

describe("the random engine's incremental shortcuts", () => {
  it("the write log sees every word a step changes: its delta is a full comparison's", () => {
    walk(wide, undefined, 20_000, 1, (_, __, logged, full) => {
      expect(sorted(logged.change().words)).toEqual(sorted(full.change().words));
      expect(sorted(logged.pagesChanged())).toEqual(sorted(full.pagesChanged()));
      return true;
    });
  });

  it.each(FAULTS.map((f) => [f.name, f] as const))("narrowed state checks agree with full ones after every step (%s)", (_, fault) => {
    const world = new World((fault.config ?? resolveConfig("wide")).config);
    let checked = 0;
    walk(world, fault.variant, 1_500, 7, (pre, post, logged) => {
      // Narrowing assumes the state before the step passed every check: restart when it did not.
      if (STATE_PROPS.some((p) => p.checkState!(pre) !== null)) return false;
      for (const p of STATE_PROPS) {
        const full = p.checkState!(post);
        const narrowed = withStepChange(logged.change(), () => p.checkState!(post));
        expect(narrowed === null, `${p.id} after a step of ${fault.name}: full ${full?.message}, narrowed ${narrowed?.message}`).toBe(full === null);
        checked++;
      }
      return true;
    });
    expect(checked).toBeGreaterThan(0);
  });

  it("a PageSet's i-th member is the i-th smallest, through any sequence of changes", () => {
    const rnd = prng(3);
    const set = new PageSet(100);
    const naive = new Set<number>();
    for (let i = 0; i < 5_000; i++) {
      const p = Math.floor(rnd() * 100);
      const on = rnd() < 0.5;
      set.set(p, on);
      if (on) naive.add(p);
      else naive.delete(p);
      const members = [...naive].sort((a, b) => a - b);
      expect(set.length).toBe(members.length);
      if (members.length > 0) {
        const k = Math.floor(rnd() * members.length);
        expect(set.at(k)).toBe(members[k]);
      }
    }
  });

  it("page pools updated from a step's pages equal a scan of every page after it", () => {
    const pools = new P.PagePools(wide);
    const view = new PkvmState(wide);
    const scan = new PkvmState(wide);
    const checkedPools = [P.hostOwned, P.hypShared, P.pinned, P.guestOwned, P.hostBorrowed, P.notHostOwned, P.alignedHostOwned, P.notDonatable];
    P.attachPagePools(view, pools);
    walk(wide, undefined, 3_000, 5, (pre, post, logged) => {
      view.s = pre.s;
      pools.build(view);
      view.s = post.s;
      scan.s = post.s;
      pools.update(view, logged.pagesChanged());
      for (const pool of checkedPools) {
        const kept = pool(view, 0) as PageSet;
        expect(Array.from({ length: kept.length }, (_, i) => kept.at(i))).toEqual(pool(scan, 0));
      }
      return true;
    });
  });

  it("the additive fingerprint, updated from a step's changed words, is the fingerprint of the state after it", () => {
    const kept = new AdditiveFingerprint();
    const fresh = new AdditiveFingerprint();
    walk(wide, undefined, 5_000, 9, (pre, post, logged) => {
      kept.reset(pre.s);
      const { words } = logged.change();
      kept.update(pre.s, post.s, words, words.length);
      fresh.reset(post.s);
      expect([kept.a, kept.b]).toEqual([fresh.a, fresh.b]);
      return true;
    });
  });

  it("the lazy alphabet space has exactly the listed alphabet's steps", () => {
    for (const name of ["tiny", "default", "wide"]) {
      const world = new World(resolveConfig(name).config);
      const space = new AlphabetSpace(world);
      const listed = alphabet(world);
      expect(space.size).toBe(listed.length);
      expect(space.steps().map((s) => [s.action.name, s.args])).toEqual(listed.map((s) => [s.action.name, s.args]));
    }
  });
});
