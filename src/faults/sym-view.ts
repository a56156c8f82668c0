// A seeded fault in the SMT encoding: the same deviation as its concrete twin (view.ts), stated
// over SymPkvm so that the inductive prover can be run against the faulty kernel. As in the
// concrete model, the encoded transition runs unchanged on a SymPkvm subclass that overrides the
// one helper the fault changes. test/faults-smt.test.ts holds every twin to its concrete fault
// on random steps of the faulty engine.

import type { Ret } from "../../model/errno.js";
import { retCode, type Outcome } from "../smt/flow.js";
import type { SymPkvm } from "../smt/kernel.js";
import type { Layout } from "../smt/layout.js";
import type { PageField, PageUpdate, SymState } from "../smt/state.js";
import type { SymArgs, SymTransition } from "../smt/transitions.js";
import type { B } from "../smt/z3.js";

export type SymKernelClass<K extends SymPkvm = SymPkvm> = new (L: Layout, s: SymState) => K;

/** `run` (an encoded transition, or one wrapped) on a `Kernel` view of the state it steps. */
export function symThrough<K extends SymPkvm>(Kernel: SymKernelClass<K>, run: (k: K, a: SymArgs) => Outcome): SymTransition {
  return (k, a) => run(new Kernel(k.L, k.s), a);
}

/** `set` without the writes of `fields` where `drop` says so (default: always). */
export function omitWrites(set: PageUpdate, fields: readonly PageField[], drop: (v: PageUpdate[PageField]) => boolean = () => true): PageUpdate {
  const kept: Record<string, unknown> = {};
  for (const [f, v] of Object.entries(set)) if (!(fields.includes(f as PageField) && drop(v))) kept[f] = v;
  return kept as PageUpdate;
}

/** The transition, but where `cond(k, a)` holds before it runs, a panic and no change. */
export function panicsWhen(cond: (k: SymPkvm, a: SymArgs) => B, run: SymTransition, r: Ret = "PANIC"): SymTransition {
  return (k, a) => {
    const { smt } = k;
    const c = cond(k, a);
    const o = run(k, a);
    return { ret: smt.ite(c, smt.int(retCode(r)), o.ret), branches: o.branches.map((b) => ({ ...b, when: smt.and(smt.not(c), b.when) })) };
  };
}
