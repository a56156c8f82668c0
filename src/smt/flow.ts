// The shape of every transition (semantics 2, "design rule"): checks in a fixed order, the first
// that fails decides the return, then effects that cannot fail. A symbolic transition is the
// return as a term (an index into RETURNS) and its branches: for each condition under which the
// state changes, the state after. Where no branch's condition holds, the state is unchanged.
// Written as the model writes it:
//
//   const f = new Flow(k);
//   f.check(k.hostCheckPageStateRange(pfn, one, OWNED));  // an errno term, OK when it passes
//   f.fail(cond, EINVAL);                                  // fails with EINVAL where cond holds
//   return f.done(() => { ...effects on k... });

import { RETURNS, type Ret } from "../../model/errno.js";
import type { SymPkvm } from "./kernel.js";
import type { SymState } from "./state.js";
import type { B, N } from "./z3.js";

const RET_INDEX = new Map<Ret, number>(RETURNS.map((r, i) => [r, i]));

/** The Int that stands for a return string. */
export function retCode(r: Ret): number {
  return RET_INDEX.get(r)!;
}

export const OK_CODE = retCode("0");

export interface Branch {
  /** Where this branch is taken: its checks' outcome. */
  readonly when: B;
  readonly post: SymState;
}

export interface Outcome {
  readonly ret: N;
  /** Disjoint; the state is unchanged where none is taken (failed calls and PANIC). */
  readonly branches: readonly Branch[];
}

export class Flow {
  private readonly pre: SymState;
  /** The call has not returned yet: every check so far passed. */
  private live: B;
  private ret: N;
  private readonly branches: Branch[] = [];

  constructor(private readonly k: SymPkvm) {
    this.pre = k.s;
    this.live = k.smt.T;
    this.ret = k.smt.int(OK_CODE);
  }

  /** A check whose errno term is OK when it passes. */
  check(r: N): void {
    const { smt } = this.k;
    this.ret = smt.ite(this.live, r, this.ret);
    this.live = smt.and(this.live, smt.eq(r, OK_CODE));
  }

  /** An early `return 0` with no effect (guest_relinquish on a non-protected VM, ...). */
  succeedIf(cond: B): void {
    this.live = this.k.smt.and(this.live, this.k.smt.not(cond));
  }

  fail(cond: B, r: Ret): void {
    const { smt } = this.k;
    this.check(smt.ite(cond, smt.int(retCode(r)), smt.int(OK_CODE)));
  }

  /** A failure that changes state (init_vm / init_vcpu hand their donated page back). */
  failWith(cond: B, r: Ret, effect: () => void): void {
    this.branches.push({ when: this.k.smt.and(this.live, cond), post: this.run(effect) });
    this.fail(cond, r);
  }

  /** The success branch; `effect` runs on the state before the call. */
  done(effect?: () => void): Outcome {
    if (effect) this.branches.push({ when: this.live, post: this.run(effect) });
    return { ret: this.ret, branches: this.branches };
  }

  private run(effect: () => void): SymState {
    this.k.s = this.pre;
    effect();
    const post = this.k.s;
    this.k.s = this.pre;
    return post;
  }
}
