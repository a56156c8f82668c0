// Inductive proofs for every memory size. The whole induction (every goal over every transition)
// takes minutes and runs in bench/smt-bench.ts; here: Inv holds initially (so it is not vacuous),
// a headline property is proved over the transitions that move pages between host and guests,
// and counterexamples to induction come back as worlds the reference engine replays.

import { describe, expect, it } from "vitest";
import { stepOf } from "../model/actions.js";
import { makeArgs } from "../model/args.js";
import { PageState, PkvmState } from "../model/state.js";
import { World } from "../model/world.js";
import { resolveConfig } from "../src/configs.js";
import { Engine } from "../src/engine.js";
import { formatReach, reachability, type Cti } from "../src/smt/cti.js";
import { closure, Prover, type Obligation } from "../src/smt/prove.js";

const brief = (os: readonly Obligation[]) => os.filter((o) => o.verdict !== "proved").map((o) => `${o.transition} ${o.goal}: ${o.verdict}`);

describe("inductive proofs", () => {
  it("Inv (every property's SMT form and every auxiliary invariant) holds in every initial state", async () => {
    const p = await Prover.create({ timeoutMs: 20_000 });
    const os = await p.initial();
    expect(brief(os)).toEqual([]);
    expect(os.length).toBeGreaterThan(20);
  }, 60_000);

  it("the headline properties follow from the isolation invariant in every state", async () => {
    const p = await Prover.create({ goals: ["host-cannot-access-guest", "guest-cannot-access-host"], assumeInvariants: true });
    const os = await p.corollaries();
    expect(os.map((o) => [o.goal, o.transition, o.verdict])).toEqual([
      ["guest-cannot-access-host", "every state", "proved"],
      ["host-cannot-access-guest", "every state", "proved"],
    ]);
    // Per transition, only their step forms are left: a guest or host access judged before it.
    const [step] = await p.transition("guest_read");
    expect(step).toMatchObject({ goal: "guest-cannot-access-host", verdict: "proved" });
  }, 60_000);

  it("the isolation invariant's leaf facts are kept by the transitions that hand pages between host and guests", async () => {
    const actions = ["host_donate_guest", "guest_share_host", "host_force_reclaim_page_guest"];
    const goals = ["guest-owned-leaves", "guest-borrowed-leaves", "ghost-owners"];
    const p = await Prover.create({ timeoutMs: 30_000, goals, assumeInvariants: true });
    const os = (await sequential(actions.map((a) => () => p.transition(a)))).flat();
    expect(brief(os)).toEqual([]);
    expect(os.length).toBe(goals.length * actions.length);
  }, 300_000);

  it("guest-owned-leaves is kept by wrprotect, which rewrites the leaves it visits as they were", async () => {
    const p = await Prover.create({ timeoutMs: 20_000, goals: ["guest-owned-leaves"], assumeInvariants: true });
    const os = await p.transition("host_wrprotect_guest");
    expect(brief(os)).toEqual([]);
  }, 60_000);

  it("proving a headline property proves the invariants its proof assumes, not all of Inv", async () => {
    const assumed = closure(["guest-cannot-access-host"]);
    expect(assumed).toEqual(expect.arrayContaining(["guest-owned-leaves", "ghost-owners", "borrowers-exclusive", "ghost-borrowers-numbered", "whole-blocks"]));
    expect(assumed).not.toContain("share-consistency");
    // A step form is never a hypothesis: all of Inv is the state forms.
    expect(closure(["share-consistency"])).not.toContain("no-hyp-panic");
    const p = await Prover.create({ goals: ["guest-cannot-access-host"] });
    expect(p.proving).toEqual(assumed);
  });

  it("finds the panic of test_clear_young past the guest, and replays it on the engine", async () => {
    const p = await Prover.create({ timeoutMs: 4_000, goals: ["no-hyp-panic"], assumeInvariants: true });
    const [o] = await p.transition("host_test_clear_young_guest");
    expect(o.verdict).toBe("cti");
    expect(o.cti!.replay.ret).toBe("PANIC");
    expect(o.cti!.replay.violation).toMatch(/panic/);
  }, 60_000);

  it("finds hyp_donate_host (not host-callable) handing a VM's metadata page back", async () => {
    const p = await Prover.create({ timeoutMs: 4_000, goals: ["no-reuse-while-mapped"], assumeInvariants: true });
    const [o] = await p.transition("hyp_donate_host");
    expect(o.verdict).toBe("cti");
    expect(o.cti!.step.action).toBe("hyp_donate_host");
    expect(o.cti!.replay).toMatchObject({ ret: "0" });
    expect(o.cti!.replay.violation).toMatch(/metadata/);
  }, 60_000);
});

describe("the reachability note of a counterexample to induction", () => {
  const config = resolveConfig("tiny").config;
  const w = new World(config);
  const engine = new Engine(w);
  const ctiAt = (pre: Uint32Array): Cti => ({
    config,
    pre: Array.from(pre),
    step: { action: "host_read", args: makeArgs({ pfn: 0 }) },
    replay: { ret: "0", violation: null },
  });

  it("gives a reachable pre-state's distance from the initial state", () => {
    const one = engine.step(engine.initial(), stepOf("host_share_hyp", { pfn: 1 })).state;
    const two = engine.step(one, stepOf("hyp_pin_shared_mem", { pfn: 1, nr_pages: 1 })).state;
    expect(reachability(ctiAt(two), undefined, 60_000)).toEqual({ verdict: "reachable", steps: 2 });
  });

  it("searches the whole world for an unreachable one", () => {
    const k = new PkvmState(w, engine.initial());
    k.setHypState(1, PageState.OWNED); // host and hyp both own page 1
    const r = reachability(ctiAt(k.s), undefined, 120_000);
    expect(r.verdict).toBe("unreachable");
    expect(formatReach(r)).toMatch(/^unreachable \(all \d+ states searched\)$/);
  }, 150_000);
});

/** Runs the thunks one after the other: the prover has one z3 context. */
async function sequential<T>(thunks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  for (const t of thunks) out.push(await t());
  return out;
}
