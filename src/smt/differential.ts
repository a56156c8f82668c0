// One source of truth: the encoding restates the model, so z3 checks it against the reference
// engine. For a sample (pre, step) with the engine's (post, ret):
//   A. T(pre, step, post, ret) is sat: the relation admits the engine's successor and return;
//   B. T(pre, step, s', r') and (s', r') != (post, ret) is unsat: and no other.
// T is built once per action instance over a symbolic pre-state and symbolic arguments, as
// Phi(pre, args, s', r') := r' = ret(pre, args) and s' = post(pre, args); a sample is that one
// formula with the sample's values substituted, so a batch of samples costs one z3 check for A
// (the conjunction) and one for B (the disjunction of the negations). With the unbounded
// backend only B is asked: its lambdas make sat answers "unknown".

import { PkvmState } from "../../model/state.js";
import type { World } from "../../model/world.js";
import { retCode } from "./flow.js";
import { concreteLayout, type Layout } from "./layout.js";
import { argTerms, concreteArgs, freshArgs, instanceName, step, type SmtVariant } from "./relation.js";
import { concreteState, freshState, stateEq, stateTerms } from "./state.js";
import type { Sample } from "./walk.js";
import { checkWith, type B, type Smt, type Val } from "./z3.js";

interface Relation {
  readonly formula: B;
  readonly vars: readonly Val[];
}

export interface DiffResult {
  readonly checked: number;
  /** Check A was not sat (or B not unsat) for these samples. */
  readonly mismatches: readonly Sample[];
}

export class DifferentialCheck {
  readonly L: Layout;
  private readonly relations = new Map<string, Relation>();
  private readonly solver;

  constructor(readonly smt: Smt, readonly w: World, readonly unbounded = false, readonly variant?: SmtVariant) {
    this.L = concreteLayout(smt, w, unbounded);
    this.solver = new smt.Z.Solver();
  }

  private relation(sample: Sample): Relation {
    const { action, args } = sample.step;
    const key = instanceName({ action, vm: args.vm });
    let r = this.relations.get(key);
    if (r) return r;
    const { L } = this;
    const pre = freshState(L, "pre");
    const a = freshArgs(L, args.vm);
    const exp = freshState(L, "exp");
    const expRet = L.smt.const("exp.ret", "int");
    const t = step(L, pre, action.name, a, this.variant);
    r = {
      formula: L.smt.and(L.smt.eq(t.ret, expRet), stateEq(L, t.post, exp)),
      vars: [...stateTerms(L, pre), ...argTerms(a), ...stateTerms(L, exp), expRet],
    };
    this.relations.set(key, r);
    return r;
  }

  /** Phi with the sample's pre-state, arguments, and the engine's post-state and return. */
  private ground(sample: Sample): B {
    const { L, w } = this;
    const r = this.relation(sample);
    const pre = concreteState(L, new PkvmState(w, sample.pre));
    const post = concreteState(L, new PkvmState(w, sample.post));
    const values = [...stateTerms(L, pre), ...argTerms(concreteArgs(L, sample.step.args)), ...stateTerms(L, post), L.smt.int(retCode(sample.ret))];
    const pairs = r.vars.map((v, i): [Val, Val] => [v, values[i]]);
    return this.smt.Z.substitute(r.formula, ...pairs) as B;
  }

  private sat(f: B): Promise<string> {
    return checkWith(this.solver, f);
  }

  private async holds(sample: Sample): Promise<boolean> {
    const g = this.ground(sample);
    if ((await this.sat(this.smt.not(g))) !== "unsat") return false;
    return this.unbounded || (await this.sat(g)) === "sat";
  }

  /** Checks A and B for every sample, `batch` samples per z3 check. */
  async check(samples: readonly Sample[], batch = 200): Promise<DiffResult> {
    const { smt } = this;
    const mismatches: Sample[] = [];
    for (let i = 0; i < samples.length; i += batch) {
      const chunk = samples.slice(i, i + batch);
      const g = chunk.map((s) => this.ground(s));
      const b = await this.sat(smt.or(...g.map((x) => smt.not(x))));
      const a = this.unbounded ? "sat" : await this.sat(smt.and(...g));
      if (a === "sat" && b === "unsat") continue;
      for (const s of chunk) if (!(await this.holds(s))) mismatches.push(s);
    }
    return { checked: samples.length, mismatches };
  }
}
