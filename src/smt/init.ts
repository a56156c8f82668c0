// model/init.ts over a symbolic layout: every RAM page host OWNED with host data, the hyp's boot
// pages (a symbolic set of RAM, non-NOMAP pfns) hyp OWNED behind a hyp annotation, no VM, no
// vCPU loaded. The proofs check that the invariants hold here, so that they are not vacuous.

import { Contents, Owner, PageState, S2 } from "../../model/state.js";
import { SegKind } from "../../model/world.js";
import { emptyGhost } from "./ghost.js";
import type { Layout } from "./layout.js";
import type { PageFields, SymState, SymVm, LeafFields } from "./state.js";
import { LEAF_FIELDS } from "./state.js";
import type { B, N } from "./z3.js";

export interface InitialState {
  readonly state: SymState;
  /** What the boot pages must satisfy. */
  readonly axioms: readonly B[];
}

export function symbolicInitialState(L: Layout): InitialState {
  const { smt } = L;
  const { Z } = smt;
  const boot = Z.Array.const("cfg.hypPages", Z.Int.sort(), Z.Bool.sort());
  const isBoot = (p: N): B => boot.select(p) as B;
  const q = Z.Int.const("init!p");
  const axioms = [Z.ForAll([q], Z.Implies(isBoot(q), smt.and(L.isMemory(q), smt.eq(L.segKind(L.segOf(q)), SegKind.MEMORY))))];
  const { pageDom } = L;
  const int = (fn: (p: N) => N) => pageDom.map("int", fn);
  const host = (p: N) => smt.and(L.isMemory(p), smt.not(isBoot(p)));
  const zero = pageDom.concrete("int", []);
  const no = pageDom.concrete("bool", []);
  const page: PageFields = {
    host: int((p) => smt.ite(host(p), smt.int(PageState.OWNED), smt.int(PageState.NOPAGE))),
    hyp: int((p) => smt.ite(isBoot(p), smt.int(PageState.OWNED), smt.int(PageState.NOPAGE))),
    cnt: zero,
    ref: zero,
    s2: int((p) => smt.ite(isBoot(p), smt.int(S2.ANNOTATION), smt.int(S2.EMPTY))),
    s2prot: pageDom.concrete("prot", []),
    annotOwner: int(() => smt.int(Owner.HYP)),
    annotVm: zero,
    annotGfn: zero,
    contents: int((p) => smt.ite(host(p), smt.int(Contents.HOST), smt.int(Contents.ZERO))),
    contentsVm: zero,
    s1: pageDom.map("bool", isBoot),
    ffa: no,
    leaked: no,
  };
  const vm = L.vms.map((slot): SymVm => ({
    life: smt.int(0),
    meta: smt.int(0),
    vcpu: Array.from({ length: slot.vcpuSlots }, () => smt.int(-1)),
    leaf: Object.fromEntries(Object.entries(LEAF_FIELDS).map(([f, sort]) => [f, slot.gfnDom.concrete(sort, [])])) as unknown as LeafFields,
  }));
  const state: SymState = { page, vm, loadedVm: smt.int(-1), loadedVcpu: smt.int(-1), ghost: emptyGhost(L, "init") };
  return { state, axioms };
}
