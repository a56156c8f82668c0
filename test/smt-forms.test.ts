// Each property's SMT form against its concrete check: on random reachable states and steps,
// and on states with one field changed at random (so that every property is also seen
// violated), the form holds exactly when the check finds nothing.

import { beforeAll, describe, expect, it } from "vitest";
import { formatStep, stepOf } from "../model/actions.js";
import type { Args } from "../model/args.js";
import { GuestEntry, Owner, PageState, PkvmState } from "../model/state.js";
import { World } from "../model/world.js";
import { PROPERTIES } from "../properties/registry.js";
import { resolveConfig } from "../src/configs.js";
import { Engine } from "../src/engine.js";
import { FormAgreement } from "../src/smt/agreement.js";
import { SMT_FORMS } from "../src/smt/forms.js";
import { prng, randomSamples, type Sample } from "../src/smt/walk.js";
import { Smt, z3 } from "../src/smt/z3.js";

let smt: Smt;
beforeAll(async () => {
  smt = new Smt(await z3());
}, 30_000);

/**
 * The sample with one field of its post-state set to a random value of that field's encoding
 * (the mutation `which`, else a random one).
 */
function mutate(w: World, s: Sample, rand: () => number, which?: number): Sample {
  const k = new PkvmState(w, s.post.slice());
  const pick = (n: number) => Math.floor(rand() * n);
  const { vms } = w.config;
  const p = pick(w.pages);
  const v = pick(vms.length);
  const g = pick(vms[v].gfns);
  /** Another leaf mapping the page some mapped leaf maps (a double mapping), maybe shared back. */
  const alias = () => {
    const u = pick(vms.length);
    const h = pick(vms[u].gfns);
    if (k.guestEntry(u, h) !== GuestEntry.MAPPED) return;
    if (pick(2)) k.setGuestState(u, h, PageState.SHARED_OWNED);
    if (u !== v || h !== g) k.setGuestMapping(v, g, k.guestPfn(u, h), 1 + pick(3), pick(8), false);
  };
  const mutations = [
    alias,
    () => k.setHostState(p, pick(4)),
    () => k.setHypState(p, pick(4)),
    () => k.setHostShareGuestCount(p, pick(3)),
    () => k.setRefcount(p, pick(3)),
    () => k.setHostS2Empty(p),
    () => k.setHostS2Idmap(p, pick(8)),
    () => k.setHostS2Annotation(p, pick(2) as Owner, pick(vms.length + 1), pick(vms[v].gfns + 1)),
    () => k.setContents(p, pick(4), pick(vms.length)),
    () => k.setHypS1Mapped(p, !k.hypS1Mapped(p)),
    () => k.setFfaShared(p, !k.ffaShared(p)),
    () => k.setLeaked(p, !k.leaked(p)),
    () => k.setGuestMapping(v, g, pick(w.pages + 1), 1 + pick(3), pick(8), pick(2) === 1),
    () => k.setGuestPoison(v, g),
    () => k.clearGuestEntry(v, g),
    () => k.setVmLife(v, pick(3)),
    () => k.setVcpuPfn(v, pick(vms[v].vcpus), pick(w.pages + 1) - 1),
    () => (pick(2) ? k.setLoaded(pick(vms.length + 1), pick(2)) : k.clearLoaded()),
  ];
  mutations[which ?? pick(mutations.length)]();
  return { ...s, post: k.s };
}

/** A protected guest that was donated a page and shared it back, a non-protected one that borrows one. */
const SCRIPT: readonly [string, Partial<Args>][] = [
  ["init_vm", { vm: 0, pfn: 1 }],
  ["init_vcpu", { vm: 0, vcpu: 0, pfn: 2 }],
  ["vcpu_load", { vm: 0, vcpu: 0 }],
  ["host_donate_guest", { vm: 0, pfn: 3, gfn: 0 }],
  ["guest_share_host", { vm: 0, gfn: 0 }],
  ["vcpu_put", {}],
];

function scripted(w: World): Sample[] {
  const engine = new Engine(w);
  let state = engine.initial();
  return SCRIPT.map(([name, args]) => {
    const step = stepOf(name, args);
    const r = engine.step(state, step);
    const sample = { pre: state, step, ret: r.ret, post: r.state };
    state = r.state;
    return sample;
  });
}

const violated = new Set<string>();

describe("SMT forms agree with the properties' checks", () => {
  for (const [name, n] of [["tiny", 900], ["default", 600]] as const) {
    it(`on ${name}: reachable states and steps, and states with a field changed`, async () => {
      const w = new World(resolveConfig(name).config);
      const script = scripted(w);
      const reachable = [...script, ...randomSamples(w, { seed: 11, samples: n })];
      const rand = prng(12);
      const shared = script[script.length - 1];
      const aliased = Array.from({ length: 40 }, () => mutate(w, shared, rand, 0));
      const mutated = [...reachable.map((s) => mutate(w, s, rand)), ...aliased];
      const samples = [...reachable, ...mutated];
      const out = await new FormAgreement(smt, w).check(PROPERTIES, SMT_FORMS, samples);
      expect(out.map((d) => `${d.property} (${d.on}) after ${formatStep(d.sample.step)}: check says ${d.concrete}`)).toEqual([]);
      for (const prop of PROPERTIES) {
        if (samples.some((s) => prop.checkState?.(new PkvmState(w, s.post)))) violated.add(prop.id);
      }
    }, 120_000);
  }

  it("saw every property with a state check violated, so that agreement means something", () => {
    expect(PROPERTIES.filter((p) => p.checkState && !violated.has(p.id)).map((p) => p.id)).toEqual([]);
  });

  it("every property has an SMT form", () => {
    expect(PROPERTIES.filter((p) => !SMT_FORMS[p.id]).map((p) => p.id)).toEqual([]);
  });
});
