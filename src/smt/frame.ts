// The frame rule, syntactically: a goal that reads no field a step writes holds after the step
// because it held before (it is part of Inv). The fields a goal reads are recorded while its
// formula is built; the fields a step writes are those whose terms the step replaced (states
// share unchanged fields by identity). Saves z3 the most trivial half of the obligations.

import type { Field } from "./domain.js";
import type { Layout } from "./layout.js";
import { LEAF_FIELDS, PAGE_FIELDS, type LeafField, type PageField, type SymState } from "./state.js";
import type { B, N, Val, Z3 } from "./z3.js";

function recorder<T extends object>(target: T, prefix: string, out: Set<string>, inner?: (key: string, v: unknown) => unknown): T {
  return new Proxy(target, {
    get(t, key) {
      const v = Reflect.get(t, key);
      if (typeof key !== "string") return v;
      const wrapped = inner?.(key, v);
      if (wrapped !== undefined) return wrapped;
      out.add(`${prefix}${key}`);
      return v;
    },
  });
}

const GHOST_OWNER = ["ownerVm", "ownerGfn"] as const;

/** A view of s that records into `out` every field read through it. */
export function recording(s: SymState, out: Set<string>): SymState {
  const page = recorder(s.page, "page.", out);
  const vm = s.vm.map((v, i) => recorder(v, `vm.${i}.`, out, (key, x) => (key === "leaf" ? recorder(x as object, `vm.${i}.leaf.`, out) : undefined)));
  const ghost = s.ghost && recorder({ ...s.ghost, vm: s.ghost.vm.map((g, i) => recorder(g, `ghost.${i}.`, out)) }, "ghost.", out, (key, x) => (key === "vm" ? x : undefined));
  return recorder({ ...s, page, vm, ghost }, "", out, (key, x) => (key === "page" || key === "vm" || key === "ghost" ? x : undefined));
}

/** The fields the step from pre to post replaced. */
export function written(Z: Z3, pre: SymState, post: SymState): Set<string> {
  const out = new Set<string>();
  for (const f of Object.keys(PAGE_FIELDS) as (keyof typeof PAGE_FIELDS)[]) if (pre.page[f] !== post.page[f]) out.add(`page.${f}`);
  pre.vm.forEach((a, i) => {
    const b = post.vm[i];
    if (!Z.eqIdentity(a.life, b.life)) out.add(`vm.${i}.life`);
    if (!Z.eqIdentity(a.meta, b.meta)) out.add(`vm.${i}.meta`);
    if (a.vcpu.some((c, j) => !Z.eqIdentity(c, b.vcpu[j]))) out.add(`vm.${i}.vcpu`);
    for (const f of Object.keys(LEAF_FIELDS) as (keyof typeof LEAF_FIELDS)[]) if (a.leaf[f] !== b.leaf[f]) out.add(`vm.${i}.leaf.${f}`);
  });
  if (!Z.eqIdentity(pre.loadedVm, post.loadedVm)) out.add("loadedVm");
  if (!Z.eqIdentity(pre.loadedVcpu, post.loadedVcpu)) out.add("loadedVcpu");
  for (const f of GHOST_OWNER) if (pre.ghost && pre.ghost[f] !== post.ghost?.[f]) out.add(`ghost.${f}`);
  pre.ghost?.vm.forEach((g, i) => {
    if (g !== post.ghost?.vm[i]) ["sbCount", "slot", "borrower"].forEach((f) => out.add(`ghost.${i}.${f}`));
  });
  return out;
}

/**
 * Where a written field differs at index i (for a per-page or per-gfn field) or at all (a
 * scalar): a step may rewrite a field with the values it had, which the syntactic rule cannot
 * see (the attribute walk of relax_perms rewrites every leaf it visits as MAPPED in its state).
 * Undefined for the ghost's borrower table, which has two indices: never kept.
 */
export function differsAt(L: Layout, pre: SymState, post: SymState, field: string, i: N): B | undefined {
  const { smt } = L;
  const at = (a: Field<Val>, b: Field<Val>) => smt.not(smt.same(a.at(i), b.at(i)));
  const [head, x, y, z] = field.split(".");
  if (head === "page") return at(pre.page[x as PageField] as Field<Val>, post.page[x as PageField] as Field<Val>);
  if (head === "loadedVm" || head === "loadedVcpu") return smt.ne(pre[head], post[head]);
  if (head === "ghost" && GHOST_OWNER.includes(x as (typeof GHOST_OWNER)[number])) return at(pre.ghost![x as "ownerVm"], post.ghost![x as "ownerVm"]);
  const v = Number(x);
  if (head === "vm" && y === "leaf") return at(pre.vm[v].leaf[z as LeafField] as Field<Val>, post.vm[v].leaf[z as LeafField] as Field<Val>);
  if (head === "vm" && y === "vcpu") return smt.or(...pre.vm[v].vcpu.map((c, j) => smt.ne(c, post.vm[v].vcpu[j])));
  if (head === "vm") return smt.ne(pre.vm[v][y as "life" | "meta"], post.vm[v][y as "life" | "meta"]);
  if (head === "ghost" && y !== "borrower") return at(pre.ghost!.vm[v][y as "sbCount" | "slot"], post.ghost!.vm[v][y as "sbCount" | "slot"]);
  return undefined;
}
