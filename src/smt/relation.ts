// The transition relation T(s, a, s', ret) of one action instance: an action with its VM slot
// fixed and every other argument symbolic. T is functional: ret and s' are terms of s and a.

import type { ActionDef } from "../../model/actions.js";
import type { Args } from "../../model/args.js";
import type { Outcome } from "./flow.js";
import { SymPkvm } from "./kernel.js";
import type { Layout } from "./layout.js";
import { chooseState, type SymState } from "./state.js";
import { SMT_TRANSITIONS, type SymArgs, type SymTransition } from "./transitions.js";
import type { B, N, Val } from "./z3.js";

/** An action with its VM slot (0 for actions without a vm argument). */
export interface Instance {
  readonly action: ActionDef;
  readonly vm: number;
}

export function instanceName({ action, vm }: Instance): string {
  return action.args.includes("vm") ? `${action.name}(vm=${vm})` : action.name;
}

/** Fresh symbolic arguments (vm fixed by the instance). */
export function freshArgs(L: Layout, vm: number, name = "a"): SymArgs {
  const { smt } = L;
  return {
    vm,
    vcpu: smt.const(`${name}.vcpu`, "int"),
    pfn: smt.const(`${name}.pfn`, "int"),
    gfn: smt.const(`${name}.gfn`, "int"),
    nr_pages: smt.const(`${name}.nr_pages`, "int"),
    prot: smt.const(`${name}.prot`, "prot"),
    mkold: smt.const(`${name}.mkold`, "bool"),
  };
}

/** The arguments as terms: fresh ones' constants, or a concrete step's values. */
export function argTerms(a: SymArgs): Val[] {
  return [a.vcpu, a.pfn, a.gfn, a.nr_pages, a.prot, a.mkold];
}

export function concreteArgs(L: Layout, a: Args): SymArgs {
  const { smt } = L;
  return {
    vm: a.vm,
    vcpu: smt.int(a.vcpu),
    pfn: smt.int(a.pfn),
    gfn: smt.int(a.gfn),
    nr_pages: smt.int(a.nr_pages),
    prot: smt.prot(a.prot),
    mkold: smt.bool(a.mkold),
  };
}

/** Well-formed arguments (interface.md): non-negative numbers, a vCPU index of the VM. */
export function argsWellFormed(L: Layout, a: SymArgs): B {
  const { smt } = L;
  return smt.and(
    smt.ge(a.pfn, 0),
    smt.ge(a.gfn, 0),
    smt.ge(a.nr_pages, 0),
    smt.ge(a.vcpu, 0),
    smt.lt(a.vcpu, L.vms[a.vm]?.vcpus ?? smt.int(1)),
  );
}

/**
 * A variant of the encoding, as src/engine.ts's ModelVariant is of the model: a seeded fault
 * stated symbolically (src/faults/). test/faults-smt.test.ts holds each to its concrete twin.
 */
export interface SmtVariant {
  /** The kernel helpers every transition runs on (default SymPkvm). */
  readonly kernel?: new (L: Layout, s: SymState) => SymPkvm;
  /** Transitions that replace the encoded ones, by action name. */
  readonly transitions?: Readonly<Record<string, SymTransition>>;
}

export function encode(L: Layout, pre: SymState, action: string, a: SymArgs, variant: SmtVariant = {}): Outcome {
  const run = variant.transitions?.[action] ?? SMT_TRANSITIONS[action];
  return run(new (variant.kernel ?? SymPkvm)(L, pre), a);
}

/** The state after the step: the branch taken, or the state before. */
export function postState(L: Layout, pre: SymState, o: Outcome): SymState {
  let post = pre;
  for (let i = o.branches.length - 1; i >= 0; i--) post = chooseState(L, o.branches[i].when, o.branches[i].post, post);
  return post;
}

export interface Step {
  readonly ret: N;
  readonly post: SymState;
  readonly outcome: Outcome;
}

export function step(L: Layout, pre: SymState, action: string, a: SymArgs, variant?: SmtVariant): Step {
  const outcome = encode(L, pre, action, a, variant);
  return { ret: outcome.ret, post: postState(L, pre, outcome), outcome };
}
