// Each SMT form against its property's concrete check, on concrete states and steps: the form,
// built once over a symbolic state (and step), with a sample's values substituted, must be true
// exactly when the check finds nothing. Batched like the differential test: one z3 check per
// batch asks whether any sample disagrees.

import { PkvmState } from "../../model/state.js";
import type { World } from "../../model/world.js";
import type { Property } from "../../properties/property.js";
import { retCode } from "./flow.js";
import type { SmtForm } from "./forms.js";
import { SymPkvm } from "./kernel.js";
import { concreteLayout, type Layout } from "./layout.js";
import { argTerms, concreteArgs, freshArgs, instanceName } from "./relation.js";
import { concreteState, freshState, stateTerms } from "./state.js";
import type { Sample } from "./walk.js";
import { checkWith, type B, type Smt, type Val } from "./z3.js";

interface Built {
  readonly formula: B;
  readonly vars: readonly Val[];
}

export interface Disagreement {
  readonly property: string;
  readonly sample: Sample;
  /** On the state after the step (state forms), or on the step. */
  readonly on: "state" | "step";
  readonly concrete: boolean;
}

export class FormAgreement {
  readonly L: Layout;
  private readonly built = new Map<string, Built>();
  private readonly solver;

  constructor(readonly smt: Smt, readonly w: World) {
    this.L = concreteLayout(smt, w);
    this.solver = new smt.Z.Solver();
  }

  private stateForm(id: string, form: SmtForm): Built {
    let b = this.built.get(id);
    if (!b) {
      const s = freshState(this.L, "s");
      b = { formula: form.state!(new SymPkvm(this.L, s)), vars: stateTerms(this.L, s) };
      this.built.set(id, b);
    }
    return b;
  }

  private stepForm(id: string, form: SmtForm, sample: Sample): Built {
    const { action, args } = sample.step;
    const key = `${id}/${instanceName({ action, vm: args.vm })}`;
    let b = this.built.get(key);
    if (!b) {
      const { L } = this;
      const pre = freshState(L, "pre");
      const post = freshState(L, "post");
      const a = freshArgs(L, args.vm);
      const ret = L.smt.const("ret", "int");
      const formula = form.step!({ inst: { action, vm: args.vm }, args: a, ret, pre: new SymPkvm(L, pre), post: new SymPkvm(L, post) });
      b = { formula, vars: [...stateTerms(L, pre), ...argTerms(a), ...stateTerms(L, post), ret] };
      this.built.set(key, b);
    }
    return b;
  }

  private ground(b: Built, values: Val[]): B {
    return this.smt.Z.substitute(b.formula, ...b.vars.map((v, i): [Val, Val] => [v, values[i]])) as B;
  }

  private stateValues(s: Uint32Array): Val[] {
    return stateTerms(this.L, concreteState(this.L, new PkvmState(this.w, s)));
  }

  /** Every (form, concrete check) pair of `props` on every sample; the samples they disagree on. */
  async check(props: readonly Property[], forms: Readonly<Record<string, SmtForm>>, samples: readonly Sample[], batch = 200): Promise<Disagreement[]> {
    const { smt, w } = this;
    const out: Disagreement[] = [];
    const pre = new PkvmState(w);
    const post = new PkvmState(w);
    for (const prop of props) {
      const form = forms[prop.id];
      if (!form) continue;
      const cases: { sample: Sample; on: "state" | "step"; concrete: boolean; formula: B }[] = [];
      for (const sample of samples) {
        pre.s = sample.pre;
        post.s = sample.post;
        if (form.state && prop.checkState) {
          const concrete = prop.checkState(post) === null;
          cases.push({ sample, on: "state", concrete, formula: this.ground(this.stateForm(prop.id, form), this.stateValues(sample.post)) });
        }
        if (form.step && prop.checkStep && (!prop.actions || prop.actions.includes(sample.step.action.name))) {
          const concrete = prop.checkStep(pre, sample.step, sample.ret, post) === null;
          const values = [
            ...this.stateValues(sample.pre),
            ...argTerms(concreteArgs(this.L, sample.step.args)),
            ...this.stateValues(sample.post),
            smt.int(retCode(sample.ret)),
          ];
          cases.push({ sample, on: "step", concrete, formula: this.ground(this.stepForm(prop.id, form, sample), values) });
        }
      }
      const differs = (c: (typeof cases)[number]) => smt.not(smt.iff(c.formula, smt.bool(c.concrete)));
      for (let i = 0; i < cases.length; i += batch) {
        const chunk = cases.slice(i, i + batch);
        if ((await this.sat(smt.or(...chunk.map(differs)))) === "unsat") continue;
        for (const c of chunk) {
          if ((await this.sat(differs(c))) !== "unsat") out.push({ property: prop.id, sample: c.sample, on: c.on, concrete: c.concrete });
        }
      }
    }
    return out;
  }

  private sat(f: B): Promise<string> {
    return checkWith(this.solver, f);
  }
}
