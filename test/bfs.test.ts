// The exhaustive search: its state count on tiny matches a deliberately naive search over the
// same engine, it finds a planted fault with a shortest trace, it is deterministic, limits stop
// it and say so, and known findings never hide a new violation of the same property.

import { describe, expect, it } from "vitest";
import type { Args } from "../model/args.js";
import { OK, type Ret } from "../model/errno.js";
import { host_unshare_hyp } from "../model/host_hyp.js";
import type { Pkvm } from "../model/pkvm.js";
import { PageState, PkvmState } from "../model/state.js";
import { World } from "../model/world.js";
import type { Property } from "../properties/property.js";
import { PROPERTIES, propertyById } from "../properties/registry.js";
import { alphabet, type AlphabetStep } from "../src/alphabet.js";
import { resolveConfig } from "../src/configs.js";
import { Engine, type ModelVariant } from "../src/engine.js";
import { bfs } from "../src/explore/bfs.js";
import { fingerprint, FP } from "../src/hash.js";

const tiny = new World(resolveConfig("tiny").config);
const steps = alphabet(tiny);

/**
 * Naive breadth-first search: whole states as strings in a Set, no fingerprints, no parent links;
 * for the counts, and the depth of the first bad state (where it stops).
 */
function naive(engine: Engine, al: readonly AlphabetStep[], bad?: (pre: PkvmState, ret: Ret, post: PkvmState) => boolean) {
  const key = (s: Uint32Array) => Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString("latin1");
  const init = engine.initial();
  const seen = new Set([key(init)]);
  let level = [init];
  let depth = 0;
  let firstBad = -1;
  while (level.length > 0) {
    const next: Uint32Array[] = [];
    for (const s of level) {
      for (const step of al) {
        if (step.enabled && !step.enabled(new PkvmState(engine.world, s))) continue;
        const r = engine.step(s, step);
        if (firstBad < 0 && bad?.(new PkvmState(engine.world, s), r.ret, new PkvmState(engine.world, r.state))) firstBad = depth + 1;
        const k = key(r.state);
        if (!seen.has(k)) {
          seen.add(k);
          next.push(r.state);
        }
      }
    }
    if (firstBad >= 0) break;
    level = next;
    if (level.length > 0) depth++;
  }
  return { states: seen.size, depth, firstBad };
}

/** B1: host_unshare_hyp without its hyp-side check takes back a page the hyp still borrows. */
const UNSHARE_HYP_NO_HYP_CHECK: ModelVariant = {
  transitions: {
    host_unshare_hyp: (k: Pkvm, a: Args) => {
      if (k.hostState(a.pfn) !== PageState.SHARED_OWNED || k.hypState(a.pfn) === PageState.SHARED_BORROWED) {
        return host_unshare_hyp(k, a);
      }
      k.setHostState(a.pfn, PageState.OWNED);
      return OK;
    },
  },
};

const shareConsistency = propertyById("share-consistency")!;

describe("exhaustive search (bfs)", () => {
  it("visits exactly the states a naive search reaches on tiny, to the same depth", () => {
    const engine = new Engine(tiny);
    const r = bfs(engine, steps, { properties: [] });
    const n = naive(engine, steps);
    expect(r.stop).toBe("complete");
    expect(r.states).toBe(n.states);
    expect(r.depth).toBe(n.depth);
    expect(r.states).toBe(23237); // stable across runs and machines: a change here is a model change
  });

  it("finds a planted fault with a shortest trace, and the trace replays the violation", () => {
    const engine = new Engine(tiny, UNSHARE_HYP_NO_HYP_CHECK);
    const r = bfs(engine, steps, { properties: [shareConsistency] });
    expect(r.stop).toBe("violation");
    const [v] = r.violations;
    expect(v.property).toBe("share-consistency");
    const n = naive(engine, steps, (_pre, _ret, post) => shareConsistency.checkState!(post) !== null);
    expect(v.path.length).toBe(n.firstBad);
    let s = engine.initial();
    for (const i of v.path) s = engine.step(s, steps[i]).state;
    expect(shareConsistency.checkState!(new PkvmState(tiny, s))).not.toBeNull();
  });

  it("is deterministic: same counts and same counterexample every run", () => {
    // keepGoing on a faulty model can reach far more states than the real one: bound it.
    const run = () => bfs(new Engine(tiny, UNSHARE_HYP_NO_HYP_CHECK), steps, { properties: PROPERTIES, keepGoing: true, maxStates: 20_000 });
    const a = run();
    const b = run();
    expect(b.states).toBe(a.states);
    expect(b.transitions).toBe(a.transitions);
    expect(b.violations.map((v) => [v.property, v.path])).toEqual(a.violations.map((v) => [v.property, v.path]));
  });

  it("stops at a limit and says which", () => {
    const engine = new Engine(tiny);
    expect(bfs(engine, steps, { properties: [], maxStates: 1000 })).toMatchObject({ stop: "max-states", states: 1000 });
    const d = bfs(engine, steps, { properties: [], maxDepth: 3 });
    expect(d).toMatchObject({ stop: "max-depth", depth: 3 });
  });

  it("records a known finding once and still finds a new violation of the same property", () => {
    const panicsOn = (action: string): Property => ({
      id: "no-hyp-panic",
      description: "test double",
      checkStep: (_pre, step, ret) => (ret === "PANIC" && step.action.name === action ? { message: action } : null),
    });
    // The real model's test_clear_young panic is "known"; a planted panic in vcpu_put is new.
    const engine = new Engine(tiny, {
      transitions: { vcpu_put: (k: Pkvm) => (k.loadedVm() >= 0 ? "PANIC" : "-EINVAL") },
    });
    const both: Property = {
      ...panicsOn(""),
      checkStep: (pre, step, ret, post) => panicsOn("host_test_clear_young_guest").checkStep!(pre, step, ret, post) ?? panicsOn("vcpu_put").checkStep!(pre, step, ret, post),
    };
    const r = bfs(engine, steps, {
      properties: [both],
      known: (property, step) => (property === "no-hyp-panic" && step?.action.name === "host_test_clear_young_guest" ? "known-1" : undefined),
    });
    expect(r.violations.map((v) => v.known ?? "new")).toEqual(["known-1", "new"]);
    expect(steps[r.violations[1].path.at(-1)!].action.name).toBe("vcpu_put");
  });

  it("keeps its fingerprints in a set that the random engine can query", () => {
    const r = bfs(new Engine(tiny), steps, { properties: [] });
    fingerprint(new Engine(tiny).initial());
    expect(r.visited.has(FP[0], FP[1])).toBe(true);
    expect(r.visited.has(FP[0] ^ 1, FP[1])).toBe(false);
  });
});
