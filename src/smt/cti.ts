// A counterexample to induction, made concrete: z3's model (in the finite encoding of a small
// world) of a pre-state that satisfies the invariants and a step that breaks one, read back
// into a world config, the state's words and the step, and replayed on the reference engine.

import { ACTION_BY_NAME } from "../../model/actions.js";
import { makeArgs, type Args } from "../../model/args.js";
import { parseWorldConfig, type WorldConfig } from "../../model/config.js";
import type { Ret } from "../../model/errno.js";
import { GuestEntry, PkvmState } from "../../model/state.js";
import { SegKind, World } from "../../model/world.js";
import { PROPERTIES } from "../../properties/registry.js";
import { alphabet } from "../alphabet.js";
import { Engine, type ModelVariant } from "../engine.js";
import { bfs } from "../explore/bfs.js";
import type { Layout } from "./layout.js";
import type { Instance } from "./relation.js";
import type { SymState } from "./state.js";
import type { SymArgs } from "./transitions.js";
import type { Model as Z3Model } from "z3-solver";
import type { AnyExpr, B, N, Smt, Val } from "./z3.js";

export interface Cti {
  /** A world config as interface.md has it (hypPages left out: the state is given). */
  readonly config: WorldConfig;
  /** The pre-state, as the reference engine's words. */
  readonly pre: number[];
  readonly step: { readonly action: string; readonly args: Args };
  /** The reference engine's answer on the pre-state, and the property's verdict after it. */
  readonly replay: { readonly ret: Ret; readonly violation: string | null };
  /** Whether the pre-state is reachable from the initial state of its world (reachability()). */
  readonly reach?: Reach;
}

export type Reach =
  | { readonly verdict: "reachable"; readonly steps: number }
  | { readonly verdict: "unreachable"; readonly states: number }
  | { readonly verdict: "unknown"; readonly states: number; readonly ms: number };

export function formatReach(r: Reach): string {
  if (r.verdict === "reachable") return `reachable in ${r.steps} steps`;
  if (r.verdict === "unreachable") return `unreachable (all ${r.states} states searched)`;
  return `reachability unknown (${r.states} states in ${r.ms} ms)`;
}

/**
 * Searches the world's reachable states for `pre`, breadth-first: a reachable counterexample to
 * induction is a real counterexample, an unreachable one asks for a stronger invariant.
 */
export function reachability(cti: Cti, variant?: ModelVariant, timeLimitMs = 5000): Reach {
  const w = new World(cti.config);
  const target = {
    id: "counterexample-to-induction",
    description: "the pre-state of a counterexample to induction",
    checkState: (k: PkvmState) => (k.s.every((x, i) => x === cti.pre[i]) ? { message: "reached" } : null),
  };
  const r = bfs(new Engine(w, variant), alphabet(w), { properties: [target], timeLimitMs });
  if (r.violations[0]) return { verdict: "reachable", steps: r.violations[0].path.length };
  return r.stop === "complete" ? { verdict: "unreachable", states: r.states } : { verdict: "unknown", states: r.states, ms: r.elapsedMs };
}

type Model = Z3Model<"main">;

function value(m: Model, t: Val): number {
  return Number((m.eval(t as AnyExpr, true) as unknown as { value(): bigint }).value());
}

function bool(smt: Smt, m: Model, t: B): boolean {
  return smt.Z.isTrue(m.eval(t, true));
}



/** The layout's world under the model: runs of GAP pfns are MMIO, NOMAP pfns nomap. */
function worldConfig(L: Layout, m: Model): WorldConfig {
  const { smt } = L;
  const pages = value(m, L.pages);
  const kinds = Array.from({ length: pages }, (_, p) => value(m, L.segKind(L.segOf(smt.int(p)))));
  const mmio: [number, number][] = [];
  kinds.forEach((k, p) => {
    if (k !== SegKind.GAP) return;
    const last = mmio[mmio.length - 1];
    if (last && last[1] === p) last[1] = p + 1;
    else mmio.push([p, p + 1]);
  });
  return parseWorldConfig({
    pages,
    mmio,
    nomap: kinds.flatMap((k, p) => (k === SegKind.NOMAP ? [p] : [])),
    blockPages: L.blockPages,
    maxShareCount: value(m, L.maxShareCount),
    vms: L.vms.map((v) => ({ protected: bool(smt, m, v.protected), vcpus: value(m, v.vcpus), gfns: value(m, v.gfns) })),
  });
}

/** The state's words under the model. */
export function stateWords(L: Layout, w: World, s: SymState, m: Model): Uint32Array {
  const { smt } = L;
  const k = new PkvmState(w);
  const n = (t: N) => value(m, t);
  for (let p = 0; p < w.pages; p++) {
    const at = smt.int(p);
    const pg = s.page;
    k.setHostState(p, n(pg.host.at(at)));
    k.setHypState(p, n(pg.hyp.at(at)));
    k.setHostShareGuestCount(p, n(pg.cnt.at(at)));
    k.setRefcount(p, n(pg.ref.at(at)));
    const kind = n(pg.s2.at(at));
    if (kind === 2) k.setHostS2Annotation(p, n(pg.annotOwner.at(at)), n(pg.annotVm.at(at)), n(pg.annotGfn.at(at)));
    else if (kind === 1) k.setHostS2Idmap(p, value(m, pg.s2prot.at(at)));
    else k.setHostS2Empty(p);
    k.setContents(p, n(pg.contents.at(at)), n(pg.contentsVm.at(at)));
    k.setHypS1Mapped(p, bool(smt, m, pg.s1.at(at)));
    k.setFfaShared(p, bool(smt, m, pg.ffa.at(at)));
    k.setLeaked(p, bool(smt, m, pg.leaked.at(at)));
  }
  s.vm.forEach((vm, v) => {
    k.setVmLife(v, n(vm.life));
    k.setVmMetaPfn(v, n(vm.meta));
    for (let i = 0; i < w.config.vms[v].vcpus; i++) k.setVcpuPfn(v, i, n(vm.vcpu[i]));
    for (let g = 0; g < w.config.vms[v].gfns; g++) {
      const at = smt.int(g);
      const e = n(vm.leaf.entry.at(at));
      if (e === GuestEntry.POISON) k.setGuestPoison(v, g);
      else if (e === GuestEntry.MAPPED) {
        k.setGuestMapping(v, g, n(vm.leaf.pfn.at(at)), n(vm.leaf.state.at(at)), value(m, vm.leaf.prot.at(at)), bool(smt, m, vm.leaf.block.at(at)));
      }
    }
  });
  const lv = n(s.loadedVm);
  if (lv >= 0) k.setLoaded(lv, n(s.loadedVcpu));
  return k.s;
}

/** The model's pre-state and step, replayed on the reference engine (a seeded fault's model, if given). */
export function readCti(L: Layout, m: Model, pre: SymState, inst: Instance, a: SymArgs, property: string, variant?: ModelVariant): Cti {
  const { smt } = L;
  const config = worldConfig(L, m);
  const w = new World(config);
  const words = stateWords(L, w, pre, m);
  const names = inst.action.args;
  const args = makeArgs({
    vm: inst.vm,
    vcpu: names.includes("vcpu") ? value(m, a.vcpu) : 0,
    pfn: names.includes("pfn") ? value(m, a.pfn) : 0,
    gfn: names.includes("gfn") ? value(m, a.gfn) : 0,
    nr_pages: names.includes("nr_pages") ? value(m, a.nr_pages) : 0,
    prot: names.includes("prot") ? value(m, a.prot) : 0,
    mkold: names.includes("mkold") ? bool(smt, m, a.mkold) : false,
  });
  const cti = { config, pre: Array.from(words), step: { action: inst.action.name, args } };
  return { ...cti, replay: replayCti(cti, property, variant) };
}

/**
 * The counterexample's step on the reference engine, from its pre-state (a seeded fault's model,
 * if given): the return, and the property's finding after it.
 */
export function replayCti(cti: Pick<Cti, "config" | "pre" | "step">, property: string, variant?: ModelVariant): Cti["replay"] {
  const w = new World(cti.config);
  const before = new PkvmState(w, Uint32Array.from(cti.pre));
  const step = { action: ACTION_BY_NAME.get(cti.step.action)!, args: cti.step.args };
  const r = new Engine(w, variant).step(before.s, step);
  const after = new PkvmState(w, r.state);
  const prop = PROPERTIES.find((p) => p.id === property);
  const finding = prop?.checkState?.(after) ?? prop?.checkStep?.(before, step, r.ret, after) ?? null;
  return { ret: r.ret, violation: finding?.message ?? null };
}
