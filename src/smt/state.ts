// The symbolic pKVM state: every field of model/state.ts as a term. Per page (a Field over the
// pages): the vmemmap host / hyp state, host_share_guest_count, refcount, the host stage-2 entry
// (kind, prot, annotation owner / vm / gfn), the hyp stage-1 mapping, the FF-A and leaked ghost
// marks, the contents label. Per VM slot: lifecycle, metadata pfn, each vCPU slot's metadata pfn
// (-1: none); per VM and gfn (a Field over the VM's gfns): the guest stage-2 leaf. Globally: the
// loaded vCPU. States are immutable values; updates make new ones that share unchanged fields.
//
// The layout is the model's canonical one: an absent or poisoned leaf has state, prot, block and
// pfn zero; a host stage-2 entry that is not an annotation names owner, vm and gfn zero.

import type { PkvmState } from "../../model/state.js";
import type { Field } from "./domain.js";
import type { Layout } from "./layout.js";
import type { B, N, SortName, Val, ValOf } from "./z3.js";

export const PAGE_FIELDS = {
  host: "int",
  hyp: "int",
  cnt: "int",
  ref: "int",
  s2: "int",
  s2prot: "prot",
  annotOwner: "int",
  annotVm: "int",
  annotGfn: "int",
  contents: "int",
  contentsVm: "int",
  s1: "bool",
  ffa: "bool",
  leaked: "bool",
} as const satisfies Record<string, SortName>;

export const LEAF_FIELDS = {
  entry: "int",
  state: "int",
  prot: "prot",
  block: "bool",
  pfn: "int",
} as const satisfies Record<string, SortName>;

export type PageField = keyof typeof PAGE_FIELDS;
export type LeafField = keyof typeof LEAF_FIELDS;
export type PageFields = { readonly [F in PageField]: Field<ValOf<(typeof PAGE_FIELDS)[F]>> };
export type LeafFields = { readonly [F in LeafField]: Field<ValOf<(typeof LEAF_FIELDS)[F]>> };

export interface SymVm {
  readonly life: N;
  readonly meta: N;
  /** Per vCPU slot: its metadata pfn, or -1. */
  readonly vcpu: readonly N[];
  readonly leaf: LeafFields;
}

export interface SymState {
  readonly page: PageFields;
  readonly vm: readonly SymVm[];
  /** VM slot of the loaded vCPU and its index, or -1 and -1. */
  readonly loadedVm: N;
  readonly loadedVcpu: N;
  /** Proof-only state that the transitions never read (src/smt/ghost.ts). */
  readonly ghost?: Ghost;
}

/** Per VM slot, the SB leaves of each page, counted and enumerated (src/smt/ghost.ts). */
export interface GhostVm {
  /** Per page: how many of the slot's leaves borrow it. */
  readonly sbCount: Field<N>;
  /** Per gfn: the index of its leaf among the borrowers of its page. */
  readonly slot: Field<N>;
  /** Per page and index below sbCount: the gfn of that borrower. */
  borrower(p: N, i: N): N;
}

export interface Ghost {
  readonly vm: readonly GhostVm[];
  /**
   * Per page: the slot and gfn of the leaf that owns it (OWNED or SO), where one does. "At most
   * one owner" is then a fact per leaf, not a quantifier nested in another.
   */
  readonly ownerVm: Field<N>;
  readonly ownerGfn: Field<N>;
}

const pageFields = Object.keys(PAGE_FIELDS) as PageField[];
const leafFields = Object.keys(LEAF_FIELDS) as LeafField[];

/** A state of fresh constants named after `name`. */
export function freshState(L: Layout, name: string): SymState {
  const { smt } = L;
  const page = Object.fromEntries(pageFields.map((f) => [f, L.pageDom.fresh(`${name}.${f}`, PAGE_FIELDS[f])])) as PageFields;
  const vm = L.vms.map((slot, v): SymVm => ({
    life: smt.const(`${name}.vm${v}.life`, "int"),
    meta: smt.const(`${name}.vm${v}.meta`, "int"),
    vcpu: Array.from({ length: slot.vcpuSlots }, (_, i) => smt.const(`${name}.vm${v}.vcpu${i}`, "int")),
    leaf: Object.fromEntries(leafFields.map((f) => [f, slot.gfnDom.fresh(`${name}.vm${v}.${f}`, LEAF_FIELDS[f])])) as LeafFields,
  }));
  return { page, vm, loadedVm: smt.const(`${name}.loadedVm`, "int"), loadedVcpu: smt.const(`${name}.loadedVcpu`, "int") };
}

/** A concrete state of the reference engine, as terms (its layout must be that world's). */
export function concreteState(L: Layout, k: PkvmState): SymState {
  const { smt } = L;
  const n = k.w.pages;
  const per = <T>(fn: (p: number) => T): T[] => Array.from({ length: n }, (_, p) => fn(p));
  const values: Record<PageField, (number | boolean)[]> = {
    host: per((p) => k.hostState(p)),
    hyp: per((p) => k.hypState(p)),
    cnt: per((p) => k.hostShareGuestCount(p)),
    ref: per((p) => k.refcount(p)),
    s2: per((p) => k.hostS2(p)),
    s2prot: per((p) => k.hostS2Prot(p)),
    annotOwner: per((p) => k.annotationOwner(p)),
    annotVm: per((p) => k.annotationVm(p)),
    annotGfn: per((p) => k.annotationGfn(p)),
    contents: per((p) => k.contents(p)),
    contentsVm: per((p) => k.contentsVm(p)),
    s1: per((p) => k.hypS1Mapped(p)),
    ffa: per((p) => k.ffaShared(p)),
    leaked: per((p) => k.leaked(p)),
  };
  const page = Object.fromEntries(pageFields.map((f) => [f, L.pageDom.concrete(PAGE_FIELDS[f], values[f])])) as PageFields;
  const vm = L.vms.map((slot, v): SymVm => {
    const gfns = k.w.config.vms[v].gfns;
    const per2 = (fn: (g: number) => number | boolean) => Array.from({ length: gfns }, (_, g) => fn(g));
    const leafValues: Record<LeafField, (number | boolean)[]> = {
      entry: per2((g) => k.guestEntry(v, g)),
      state: per2((g) => k.guestState(v, g)),
      prot: per2((g) => k.guestProt(v, g)),
      block: per2((g) => k.guestBlock(v, g)),
      pfn: per2((g) => k.guestPfn(v, g)),
    };
    return {
      life: smt.int(k.vmLife(v)),
      meta: smt.int(k.vmMetaPfn(v)),
      vcpu: Array.from({ length: slot.vcpuSlots }, (_, i) => smt.int(k.vcpuPfn(v, i))),
      leaf: Object.fromEntries(leafFields.map((f) => [f, slot.gfnDom.concrete(LEAF_FIELDS[f], leafValues[f])])) as LeafFields,
    };
  });
  return { page, vm, loadedVm: smt.int(k.loadedVm()), loadedVcpu: smt.int(k.loadedVcpu()) };
}

/** Every term of a state in a fixed order: a fresh state's constants, for substitution. */
export function stateTerms(L: Layout, s: SymState): Val[] {
  const out: Val[] = [];
  for (const f of pageFields) out.push(...L.pageDom.vars(s.page[f] as Field<Val>));
  s.vm.forEach((vm, v) => {
    out.push(vm.life, vm.meta, ...vm.vcpu);
    for (const f of leafFields) out.push(...L.vms[v].gfnDom.vars(vm.leaf[f] as Field<Val>));
  });
  out.push(s.loadedVm, s.loadedVcpu);
  return out;
}

/** The two states agree on every field (every page, every VM slot and gfn). */
export function stateEq(L: Layout, a: SymState, b: SymState): B {
  const { smt } = L;
  const eqs: B[] = pageFields.map((f) => L.pageDom.eq(a.page[f] as Field<Val>, b.page[f] as Field<Val>));
  a.vm.forEach((x, v) => {
    const y = b.vm[v];
    eqs.push(smt.eq(x.life, y.life), smt.eq(x.meta, y.meta), ...x.vcpu.map((c, i) => smt.eq(c, y.vcpu[i])));
    for (const f of leafFields) eqs.push(L.vms[v].gfnDom.eq(x.leaf[f] as Field<Val>, y.leaf[f] as Field<Val>));
  });
  eqs.push(smt.eq(a.loadedVm, b.loadedVm), smt.eq(a.loadedVcpu, b.loadedVcpu));
  return smt.and(...eqs);
}

/** Agreement on every field but page p's. */
export function stateEqExceptPage(L: Layout, a: SymState, b: SymState, p: N): B {
  const { smt } = L;
  const pageEqs = pageFields.map((f) => L.pageDom.eqExcept(a.page[f] as Field<Val>, b.page[f] as Field<Val>, p));
  const rest = stateEq(L, { ...a, page: b.page }, b);
  return smt.and(...pageEqs, rest);
}

/** Page p agrees in both states. */
export function pageEq(L: Layout, a: SymState, b: SymState, p: N): B {
  return L.smt.and(...pageFields.map((f) => L.smt.same(a.page[f].at(p), b.page[f].at(p))));
}

export type PageUpdate = { readonly [F in PageField]?: ValOf<(typeof PAGE_FIELDS)[F]> | ((p: N) => ValOf<(typeof PAGE_FIELDS)[F]>) };
export type LeafUpdate = { readonly [F in LeafField]?: ValOf<(typeof LEAF_FIELDS)[F]> | ((g: N) => ValOf<(typeof LEAF_FIELDS)[F]>) };

function valueAt<T extends Val>(v: T | ((i: N) => T), i: N): T {
  return typeof v === "function" ? v(i) : v;
}

/** The fields in `set` take their new values on the pages where `where` holds. */
export function updatePages(L: Layout, s: SymState, where: (p: N) => B, set: PageUpdate): SymState {
  const page: Record<string, Field<Val>> = { ...s.page };
  for (const f of Object.keys(set) as PageField[]) {
    const old = s.page[f] as Field<Val>;
    const v = set[f] as Val | ((p: N) => Val);
    page[f] = L.pageDom.map(PAGE_FIELDS[f], (p) => L.smt.ite(where(p), valueAt(v, p), old.at(p)) as never) as Field<Val>;
  }
  return { ...s, page: page as unknown as PageFields };
}

/** The leaf fields in `set` of VM v take their new values at the gfns where `where` holds. */
export function updateLeaves(L: Layout, s: SymState, v: number, where: (g: N) => B, set: LeafUpdate): SymState {
  const vm = s.vm[v];
  const leaf: Record<string, Field<Val>> = { ...vm.leaf };
  for (const f of Object.keys(set) as LeafField[]) {
    const old = vm.leaf[f] as Field<Val>;
    const val = set[f] as Val | ((g: N) => Val);
    leaf[f] = L.vms[v].gfnDom.map(LEAF_FIELDS[f], (g) => L.smt.ite(where(g), valueAt(val, g), old.at(g)) as never) as Field<Val>;
  }
  return updateVm(s, v, { leaf: leaf as unknown as LeafFields });
}

export function updateVm(s: SymState, v: number, set: Partial<SymVm>): SymState {
  return { ...s, vm: s.vm.map((x, i) => (i === v ? { ...x, ...set } : x)) };
}

/** Branch-wise choice of two states: the value of `a` where c holds, of `b` elsewhere. */
export function chooseState(L: Layout, c: B, a: SymState, b: SymState): SymState {
  const { smt } = L;
  if (a === b) return a;
  const page: Record<string, Field<Val>> = {};
  for (const f of pageFields) {
    const x = a.page[f] as Field<Val>;
    const y = b.page[f] as Field<Val>;
    page[f] = x === y ? x : L.pageDom.choose(c, x, y);
  }
  const vm = a.vm.map((x, v): SymVm => {
    const y = b.vm[v];
    if (x === y) return x;
    const leaf: Record<string, Field<Val>> = {};
    for (const f of leafFields) {
      const lx = x.leaf[f] as Field<Val>;
      const ly = y.leaf[f] as Field<Val>;
      leaf[f] = lx === ly ? lx : L.vms[v].gfnDom.choose(c, lx, ly);
    }
    return {
      life: smt.ite(c, x.life, y.life),
      meta: smt.ite(c, x.meta, y.meta),
      vcpu: x.vcpu.map((t, i) => smt.ite(c, t, y.vcpu[i])),
      leaf: leaf as unknown as LeafFields,
    };
  });
  return { page: page as unknown as PageFields, vm, loadedVm: smt.ite(c, a.loadedVm, b.loadedVm), loadedVcpu: smt.ite(c, a.loadedVcpu, b.loadedVcpu) };
}
