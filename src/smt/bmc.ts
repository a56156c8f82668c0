// Bounded model checking: is any property violated within K steps of a config's initial state?
// The finite encoding of the config, unrolled K times: state i + 1 is the post-state of the
// action instance chosen at step i (a symbolic choice), with symbolic arguments ranging over
// exactly the values the adversary's alphabet gives that action (src/alphabet.ts) and the
// alphabet's guards on the hyp's own steps, so that the verdicts are the exhaustive search's
// for the same depth. Each property is asked at each depth, shallowest first; a violation comes
// back as the steps that reach it, replayed on the reference engine.
//
// Each step chooses among the alphabet's steps themselves, each encoded with its concrete
// arguments: the state stays symbolic, but every index folds to a numeral.

import { PkvmState } from "../../model/state.js";
import type { World } from "../../model/world.js";
import { PROPERTIES } from "../../properties/registry.js";
import { alphabet, type AlphabetOptions, type AlphabetStep } from "../alphabet.js";
import { Engine, type ModelVariant, type Step } from "../engine.js";
import { SMT_FORMS } from "./forms.js";
import { SymPkvm } from "./kernel.js";
import { concreteLayout, type Layout } from "./layout.js";
import { concreteArgs, step as encodeStep, type SmtVariant } from "./relation.js";
import { concreteState, freshState, stateTerms, type SymState } from "./state.js";
import type { SymArgs } from "./transitions.js";
import { checkSat, z3, Smt, type B, type N, type Val } from "./z3.js";

export interface BmcOptions extends AlphabetOptions {
  /** Property ids (default: every property with an SMT form). */
  properties?: readonly string[];
  /** Per z3 check (default 60 s). */
  timeoutMs?: number;
  /** A seeded fault: its SMT twin is unrolled, and violations replay under its model. */
  fault?: { readonly smt: SmtVariant; readonly model: ModelVariant };
}

export interface BmcViolation {
  readonly property: string;
  /** Steps from the initial state; the violation shows after the last (0: the initial state). */
  readonly depth: number;
  readonly steps: readonly Step[];
  /** The property's finding when the steps are replayed on the reference engine. */
  readonly replayed: string | null;
}

export interface BmcResult {
  readonly depth: number;
  readonly violations: readonly BmcViolation[];
  /** Properties not violated within `depth` steps. */
  readonly holds: readonly string[];
  /** Properties some check of which timed out. */
  readonly unknown: readonly string[];
  readonly ms: number;
}

/** The hyp's discipline on its own steps (src/alphabet.ts hypGuard), symbolically. */
function guard(L: Layout, s: SymState, action: string, a: SymArgs, pinBound: number): B {
  const { smt } = L;
  const k = new SymPkvm(L, s);
  const every = (ok: (p: N) => B) =>
    smt.and(
      smt.not(smt.and(smt.gt(a.nr_pages, 0), smt.gt(smt.add(a.pfn, a.nr_pages), L.pages))),
      L.pageDom.forall(a.pfn, smt.add(a.pfn, a.nr_pages), ok),
    );
  if (action === "hyp_pin_shared_mem") return every((p) => smt.lt(k.refcount(p), pinBound));
  if (action === "hyp_unpin_shared_mem") return every((p) => smt.gt(k.refcount(p), 0));
  return smt.T;
}

interface Unrolled {
  readonly states: SymState[];
  /** Per step: the index of the alphabet step taken. */
  readonly choice: N[];
  /** Per step, per alphabet step: its return. */
  readonly rets: N[][];
}

export class Bmc {
  readonly L: Layout;
  private readonly steps: AlphabetStep[];
  private readonly args: SymArgs[];
  private readonly solver;
  private readonly u: Unrolled;
  private readonly pinBound: number;

  constructor(readonly smt: Smt, readonly w: World, readonly opts: BmcOptions = {}) {
    this.L = concreteLayout(smt, w);
    this.steps = alphabet(w, opts);
    this.args = this.steps.map((s) => concreteArgs(this.L, s.args));
    this.pinBound = opts.pinBound ?? 2;
    this.solver = new smt.Z.Solver();
    this.solver.set("timeout", opts.timeoutMs ?? 60000);
    const s0 = concreteState(this.L, new PkvmState(w, new Engine(w).initial()));
    this.u = { states: [s0], choice: [], rets: [] };
  }

  static async create(w: World, opts: BmcOptions = {}): Promise<Bmc> {
    return new Bmc(new Smt(await z3()), w, opts);
  }

  /**
   * Adds step i: a choice among the alphabet's steps (each with its concrete arguments, so
   * that every index the transitions read is a numeral), and state i + 1: per field, the value
   * of the step taken if it changes the field, else the field as it was.
   */
  private unroll(): void {
    const { L, smt, u } = this;
    const i = u.choice.length;
    const pre = u.states[i];
    const c = smt.const(`choice${i}`, "int");
    const before = stateTerms(L, pre);
    const changes: [B, Val][][] = before.map(() => []);
    const rets = this.steps.map((st, j) => {
      const t = encodeStep(L, pre, st.action.name, this.args[j], this.opts.fault?.smt);
      const picked = smt.eq(c, j);
      this.solver.add(smt.implies(picked, guard(L, pre, st.action.name, this.args[j], this.pinBound)));
      stateTerms(L, t.post).forEach((v, f) => {
        if (!smt.Z.eqIdentity(v, before[f])) changes[f].push([picked, v]);
      });
      return t.ret;
    });
    const post = freshState(L, `s${i + 1}`);
    stateTerms(L, post).forEach((v, f) => this.solver.add(smt.same(v, smt.cond(changes[f], before[f]))));
    this.solver.add(smt.inRange(c, 0, this.steps.length));
    u.states.push(post);
    u.choice.push(c);
    u.rets.push(rets);
  }

  /** Property `id` fails at depth d: in state d, or on step d - 1. */
  private violated(id: string, d: number): B {
    const { L, smt, u } = this;
    const form = SMT_FORMS[id];
    const bad: B[] = [];
    if (form.state) bad.push(smt.not(form.state(new SymPkvm(L, u.states[d]))));
    if (form.step && d > 0) {
      const i = d - 1;
      const pre = new SymPkvm(L, u.states[i]);
      const post = new SymPkvm(L, u.states[d]);
      this.steps.forEach((st, j) => {
        const inst = { action: st.action, vm: st.args.vm };
        const ok = form.step!({ inst, args: this.args[j], ret: u.rets[i][j], pre, post });
        if (smt.lit(ok) !== true) bad.push(smt.and(smt.eq(u.choice[i], j), smt.not(ok)));
      });
    }
    return smt.or(...bad);
  }

  /** The model's first d steps. */
  private trace(d: number): Step[] {
    const m = this.solver.model();
    return this.u.choice.slice(0, d).map((c) => {
      const st = this.steps[Number((m.eval(c, true) as unknown as { value(): bigint }).value())];
      return { action: st.action, args: st.args };
    });
  }

  /** The steps on the reference engine, and the property's finding at their end. */
  private replay(id: string, steps: readonly Step[]): string | null {
    const prop = PROPERTIES.find((p) => p.id === id)!;
    const engine = new Engine(this.w, this.opts.fault?.model);
    let s = engine.initial();
    let finding = prop.checkState?.(new PkvmState(this.w, s)) ?? null;
    for (const st of steps) {
      const r = engine.step(s, st);
      finding = prop.checkStep?.(new PkvmState(this.w, s), st, r.ret, new PkvmState(this.w, r.state)) ?? null;
      s = r.state;
      finding ??= prop.checkState?.(new PkvmState(this.w, s)) ?? null;
    }
    return finding?.message ?? null;
  }

  /**
   * Every property against every depth up to K: at each depth one check asks whether any
   * property still open is violated there; a model names those it violates.
   */
  async run(K: number): Promise<BmcResult> {
    const t0 = Date.now();
    const ids = this.opts.properties ?? PROPERTIES.filter((p) => SMT_FORMS[p.id]).map((p) => p.id);
    const open = new Set(ids);
    const violations: BmcViolation[] = [];
    const unknown = new Set<string>();
    for (let d = 0; d <= K && open.size > 0; d++) {
      while (this.u.choice.length < d) this.unroll();
      for (;;) {
        const bad = [...open].filter((id) => !unknown.has(id)).map((id) => ({ id, f: this.violated(id, d) }));
        if (bad.length === 0) break;
        this.solver.push();
        this.solver.add(this.smt.or(...bad.map((b) => b.f)));
        const r = await checkSat(this.solver);
        if (r === "sat") {
          const m = this.solver.model();
          const steps = this.trace(d);
          for (const b of bad) {
            if (!this.smt.Z.isTrue(m.eval(b.f, true))) continue;
            violations.push({ property: b.id, depth: d, steps, replayed: this.replay(b.id, steps) });
            open.delete(b.id);
          }
        } else if (r === "unknown") bad.forEach((b) => unknown.add(b.id));
        this.solver.pop();
        if (r !== "sat") break;
      }
      // What held at depth d holds on every path we look at next: lemmas for the solver.
      for (const id of open) {
        const form = SMT_FORMS[id];
        if (form.state && !unknown.has(id)) this.solver.add(form.state(new SymPkvm(this.L, this.u.states[d])));
      }
    }
    return { depth: K, violations, holds: [...open].filter((id) => !unknown.has(id)), unknown: [...unknown], ms: Date.now() - t0 };
  }

  release(): void {
    this.solver.release();
  }
}

/** Is any property violated within K steps of w's initial state? */
export async function bmc(w: World, K: number, opts: BmcOptions = {}): Promise<BmcResult> {
  const b = await Bmc.create(w, opts);
  try {
    return await b.run(K);
  } finally {
    b.release();
  }
}
