// Inductive proofs over every memory size. Inv is the conjunction of the properties' state forms
// (src/smt/forms.ts) and the auxiliary invariants (src/smt/invariants.ts). For every goal G of
// Inv, every action and every branch of it that changes state:
//     layout axioms, Inv(s), well-formed arguments, the branch's condition, not G(s')
// must be unsat (a branch that changes nothing keeps G since G is part of Inv). Every step form
// F is checked on the whole step: Inv(s), not F(s, a, ret, s'). And Inv must hold in every
// initial state, so that it is not vacuous. A corollary C (COROLLARIES) is not proved per
// action: "H(s) implies C(s)" is, once, for the goals H it names, which are proved per action.
//
// The unbounded encoding proves; it is poor at finding models (quantifiers, lambdas). So when
// an obligation is not proved, the same obligation is asked of small concrete worlds in the
// finite encoding, where z3 finds models: a model there is a counterexample to induction,
// replayed on the reference engine (src/smt/cti.ts). Neither: "unknown".
//
// A goal that reads no field a branch writes, or only fields the branch provably rewrites with
// the values they had, is kept by it without a proof of its own (src/smt/frame.ts).
//
// A goal is proved under hypotheses (tiersOf), so its proof stands only once every goal those
// hypotheses name is proved too: asking for some goals proves their closure (closure()), unless
// assumeInvariants says to take the rest of Inv on trust. Hyp-internal actions
// (hyp_donate_host) are left out, as from the adversary's alphabet, unless allowInternal.
//
// The shape of the configs is fixed (ShapeOptions: VM slots, vCPU slots, blockPages); sizes are
// not. Actions that take a VM slot are proved for slot 0 acting: the slots are symmetric (each
// has its own symbolic protected flag, vCPU count and guest address space).

import { ACTION_BY_NAME, type Caller } from "../../model/actions.js";
import { parseWorldConfig } from "../../model/config.js";
import { World } from "../../model/world.js";
import { PROPERTIES } from "../../properties/registry.js";
import { reachability, readCti, type Cti } from "./cti.js";
import type { Outcome } from "./flow.js";
import { SMT_FORMS } from "./forms.js";
import { differsAt, recording, written } from "./frame.js";
import { freshGhost, ghostStep } from "./ghost.js";
import { symbolicInitialState } from "./init.js";
import { INVARIANTS } from "./invariants.js";
import { SymPkvm } from "./kernel.js";
import { concreteLayout, symbolicLayout, type Layout, type ShapeOptions } from "./layout.js";
import type { ModelVariant } from "../engine.js";
import { argsWellFormed, encode, freshArgs, instanceName, postState, type Instance, type SmtVariant } from "./relation.js";
import { freshState, type SymState } from "./state.js";
import { SMT_TRANSITIONS, type SymArgs } from "./transitions.js";
import { Budget, z3, Smt, type B, type CheckHook, type N } from "./z3.js";

export type Verdict = "proved" | "cti" | "unknown";

export interface Obligation {
  /** The transition instance ("host_share_guest(vm=0)"), or "initial state". */
  readonly transition: string;
  readonly caller?: Caller;
  /** A property id, or an auxiliary invariant's id. */
  readonly goal: string;
  readonly kind: "property" | "invariant";
  readonly verdict: Verdict;
  readonly ms: number;
  /** z3 resource units its checks spent (what --smt-rlimit bounds). */
  readonly rlimit: number;
  readonly cti?: Cti;
  /** Why z3 answered unknown. */
  readonly reason?: string;
  /**
   * A proved obligation: what closed it. "z3": at least one of its cases was refuted by z3;
   * "frame": none was left once the frame rule kept the goal (src/smt/frame.ts) on some branch;
   * "folding": every negated case folded to false while the terms were built.
   */
  readonly closedBy?: ClosedBy;
}

export type ClosedBy = "z3" | "frame" | "folding";

export interface ProofOptions extends ShapeOptions {
  /**
   * z3 resource units per obligation (see Budget): a verdict that does not depend on the
   * machine's load. Without it, timeoutMs bounds each check instead.
   */
  rlimit?: number;
  /** Per obligation, wall-clock: with rlimit a safety net only (default 10 s). */
  timeoutMs?: number;
  /** Only these actions (default: every encoded one the adversary can take). */
  actions?: readonly string[];
  /** Also hyp-internal actions the host cannot choose (hyp_donate_host), as --allow-internal. */
  allowInternal?: boolean;
  /** Only these goals, by property or invariant id (default: all), and what their proofs assume. */
  goals?: readonly string[];
  /**
   * Prove the goals only, not the invariants their proofs assume (default false): faster, but a
   * proof then stands only once those are proved too (check --engine smt proves them).
   */
  assumeInvariants?: boolean;
  onObligation?: (o: Obligation) => void;
  /** As each obligation of run() starts: how many are done of how many, and which it is. */
  onStart?: (p: ProofProgress) => void;
  /** A seeded fault: its SMT twin is proved, and counterexamples replay under its model. */
  fault?: { readonly smt: SmtVariant; readonly model: ModelVariant };
  /** After every z3 check (src/smt/certificates.ts writes each as SMT-LIB). */
  onCheck?: CheckHook;
}

export interface ProofProgress {
  readonly done: number;
  readonly total: number;
  readonly transition: string;
  readonly goal: string;
}

export interface ProofReport {
  readonly shape: Required<ShapeOptions>;
  /** The actions proved over. */
  readonly actions: readonly string[];
  readonly obligations: readonly Obligation[];
  readonly ms: number;
}

interface Goal {
  readonly id: string;
  readonly kind: "property" | "invariant";
  readonly ghostOnly?: boolean;
  /** A state goal holds in k's state; a step goal over the step. */
  state?(k: SymPkvm): B;
  /** A state goal's conjuncts, proved one at a time. */
  parts?(k: SymPkvm): B[];
  step?(pre: SymPkvm, inst: Instance, a: SymArgs, ret: N, post: SymPkvm): B;
}

/** The properties' state forms, the auxiliary invariants, the properties' step forms. */
function goals(): Goal[] {
  const withForm = PROPERTIES.filter((p) => SMT_FORMS[p.id]);
  return [
    ...withForm.filter((p) => SMT_FORMS[p.id].state).map((p): Goal => ({ id: p.id, kind: "property", state: (k) => SMT_FORMS[p.id].state!(k) })),
    ...INVARIANTS.map((i): Goal => ({ id: i.id, kind: "invariant", ghostOnly: i.ghostOnly, state: (k) => i.holds(k), parts: i.parts && ((k) => i.parts!(k)) })),
    ...withForm.filter((p) => SMT_FORMS[p.id].step).map(
      (p): Goal => ({ id: p.id, kind: "property", step: (pre, inst, args, ret, post) => SMT_FORMS[p.id].step!({ inst, args, ret, pre, post }) }),
    ),
  ];
}

/**
 * Hypothesis sets a goal is tried with, smallest first: z3's quantifier instantiation grows with
 * every quantified hypothesis, and most goals need few.
 */
/** The shape of states, as the isolation invariant needs it. */
const BASE = ["encodings", "mmio-unowned", "leaf-encoding", "whole-blocks", "vm-slots", "lifecycle", "annotations-in-range", "hyp-data-in-hyp-pages"];
const STRUCTURE = [...BASE, "leaked-pages-shape"];
const SHARING = [...STRUCTURE, "share-consistency", "share-count-covers-borrowers", "share-count-exact", "ghost-borrowers-numbered", "ghost-numbers-borrow", "ghost-absent-slots-borrow-nothing", "unique-owner", "nopage-means-foreign", "host-stage2-consistency"];
/**
 * What the semantic frame rule may assume: the one rewrite it has to see through is the
 * attribute walk over a stage-2 block, whose leaves whole-blocks says are all mapped.
 */
const FRAME_HYPOTHESES = ["whole-blocks"];

type Tiers = readonly (readonly string[] | undefined)[];
const DEFAULT_TIERS: Tiers = [STRUCTURE, SHARING, undefined];

/**
 * The isolation invariant: what the two headline properties follow from. Each member is proved
 * inductive with members only, so once every member is proved over every transition it is
 * inductive on its own, without the rest of Inv (share-consistency, unique-owner, ..., whose own
 * proofs are not complete). Its facts are per leaf or per page, never a quantifier inside
 * another: z3's instantiation copes with those.
 */
export const ISOLATION = [
  ...BASE,
  "guest-leaves-in-ram",
  "guest-owned-leaves",
  "guest-borrowed-leaves",
  "ghost-owners",
  "hyp-pages-annotated",
  "borrowers-exclusive",
  "vm-pages-hyp-owned",
  "ghost-borrowers-numbered",
  "ghost-counts-nonnegative",
  "ghost-absent-slots-borrow-nothing",
  "share-count-covers-borrowers",
];

/**
 * How the isolation invariant's members are tried: the goal with the leaf encoding alone (most
 * transitions keep a goal for reasons of its own), then what the guest leaves say about their
 * pages, then the counting of borrowers (unsharing: another borrower means a count of two), then
 * all of it. Small sets first, because every quantified hypothesis multiplies z3's instances.
 */
const LEAVES = ["encodings", "leaf-encoding", "vm-slots", "lifecycle", "annotations-in-range", "borrowers-exclusive", "guest-leaves-in-ram", "guest-owned-leaves", "guest-borrowed-leaves", "ghost-owners"];
const COUNTING = ["leaf-encoding", "whole-blocks", "guest-leaves-in-ram", "ghost-borrowers-numbered", "ghost-counts-nonnegative", "share-count-covers-borrowers"];
const ISOLATION_TIERS: Tiers = [["leaf-encoding", "whole-blocks"], LEAVES, COUNTING, ISOLATION];

/**
 * Goals proved as corollaries: in every state, the listed goals imply them (one obligation, no
 * transition), so they hold wherever those do. The headline properties each nest a quantifier
 * over leaves inside another ("at most one owning leaf" for every leaf), which z3's induction
 * over a transition does not survive; their flat restatements in ISOLATION do.
 */
const COROLLARIES: Readonly<Record<string, readonly string[]>> = {
  "guest-cannot-access-host": [...BASE, "guest-leaves-in-ram", "guest-owned-leaves", "guest-borrowed-leaves", "ghost-owners"],
  "host-cannot-access-guest": [...BASE, "guest-owned-leaves", "hyp-pages-annotated"],
};

/** The hypothesis sets each goal is tried with, smallest first; undefined is all of Inv. */
function tiersOf(id: string): Tiers {
  if (COROLLARIES[id]) return [COROLLARIES[id]];
  return ISOLATION.includes(id) ? ISOLATION_TIERS : DEFAULT_TIERS;
}

/** The goals, and every goal their proofs assume: what must be proved for theirs to stand. */
export function closure(ids: readonly string[]): string[] {
  const all = [...new Set(goals().map((g) => g.id))];
  // Only state forms are ever hypotheses: "all of Inv" names those.
  const inv = [...new Set(goals().filter((g) => g.state).map((g) => g.id))];
  const out = new Set<string>();
  const visit = (id: string) => {
    if (out.has(id)) return;
    out.add(id);
    for (const tier of tiersOf(id)) (tier ?? inv).forEach(visit);
  };
  ids.forEach(visit);
  if (ids.length > 0) FRAME_HYPOTHESES.forEach(visit);
  return all.filter((id) => out.has(id));
}

/** One encoding of the induction step: a layout, a symbolic pre-state and arguments, Inv. */
class Frame {
  readonly pre: SymState;
  readonly args: SymArgs;
  readonly k: SymPkvm;
  readonly solver;
  private readonly outcomes = new Map<string, Outcome>();
  private readonly kept = new Map<string, boolean>();
  /** Each state goal on the pre-state, with the fields it reads. */
  private readonly hyps: { id: string; holds: B; reads: Set<string> }[];

  constructor(
    readonly L: Layout,
    readonly goals: readonly Goal[],
    readonly budget: Budget,
    private readonly fault: ProofOptions["fault"],
  ) {
    const ghost = L.backend.unbounded ? freshGhost(L, "s") : undefined;
    this.pre = { ...freshState(L, "s"), ghost };
    this.args = freshArgs(L, 0);
    this.k = new SymPkvm(L, this.pre);
    this.solver = new L.smt.Z.Solver();
    this.hyps = goals
      .filter((g) => g.state && (ghost || !g.ghostOnly))
      .map((g) => {
        const reads = new Set<string>();
        return { id: g.id, holds: g.state!(new SymPkvm(L, recording(this.pre, reads))), reads };
      });
    this.solver.add(...L.axioms, argsWellFormed(L, this.args));
    // A small world is always asked under the whole of Inv: asserted once, below every push.
    if (!L.backend.unbounded) this.solver.add(...this.hyps.map((h) => h.holds));
  }

  outcome(action: string): Outcome {
    let o = this.outcomes.get(action);
    if (!o) this.outcomes.set(action, (o = encode(this.L, this.pre, action, this.args, this.fault?.smt)));
    return o;
  }

  /**
   * A state goal that branch b of the action cannot break: every field the goal reads is one the
   * branch does not write, or writes with the values it had (asked of z3 once per field, under
   * FRAME_HYPOTHESES, with a tenth of the budget: most written fields do change).
   */
  async unchanged(inst: Instance, goal: Goal, b: number): Promise<boolean> {
    const hyp = this.hyps.find((h) => h.id === goal.id);
    if (!hyp) return false;
    const branch = this.outcome(inst.action.name).branches[b];
    const post = ghostStep(this.k, inst, this.args, branch.post);
    for (const f of written(this.L.smt.Z, this.pre, post)) {
      if (hyp.reads.has(f) && !(await this.keeps(branch.when, post, `${inst.action.name}/${b}/${f}`, f))) return false;
    }
    return true;
  }

  private async keeps(when: B, post: SymState, key: string, field: string): Promise<boolean> {
    let kept = this.kept.get(key);
    if (kept === undefined) {
      const differs = differsAt(this.L, this.pre, post, field, this.L.smt.Z.Int.const(`frame!${key}`));
      kept = differs !== undefined && (await this.check(this.L.smt.and(when, differs), "", FRAME_HYPOTHESES, 0.1)).result === "unsat";
      this.kept.set(key, kept);
    }
    return kept;
  }

  /**
   * What z3 must refute for the goal over the action: per branch (b < 0: the step, for a step
   * goal) and part, the negated goal, where the frame rule does not discharge it already.
   */
  async openCases(inst: Instance, goal: Goal, closed?: { frame: number; folded: number }): Promise<{ b: number; part?: number; neg: B }[]> {
    const branches = goal.state ? Array.from({ length: this.outcome(inst.action.name).branches.length }, (_, i) => i) : [-1];
    const parts = goal.parts ? goal.parts(this.k).map((_, i) => i) : [undefined];
    const out: { b: number; part?: number; neg: B }[] = [];
    for (const b of branches) {
      if (b >= 0 && (await this.unchanged(inst, goal, b))) {
        if (closed) closed.frame++;
        continue;
      }
      for (const part of parts) {
        const neg = this.negation(inst, goal, b, part)!;
        if (this.L.smt.lit(neg) !== false) out.push({ b, part, neg });
        else if (closed) closed.folded++;
      }
    }
    return out;
  }

  /** The negated goal for branch `b` of the action (a state goal), or for the step (b < 0). */
  negation(inst: Instance, goal: Goal, b: number, part?: number): B | undefined {
    const { L, k, pre, args } = this;
    if (goal.ghostOnly && !pre.ghost) return undefined;
    const o = this.outcome(inst.action.name);
    if (goal.state) {
      const branch = o.branches[b];
      const post = new SymPkvm(L, ghostStep(k, inst, args, branch.post));
      return L.smt.and(branch.when, L.smt.not(part === undefined ? goal.state(post) : goal.parts!(post)[part]));
    }
    return L.smt.not(goal.step!(k, inst, args, o.ret, new SymPkvm(L, postState(L, pre, o))));
  }

  /**
   * Checks f under the hypotheses of `tier` (all of Inv when undefined) and the goal's own, with
   * `share` of the obligation's budget; after a sat answer with `keep`, the solver stays as it is
   * for cti(). Proofs go by E-matching (`mbqi` off): model-based instantiation mostly slows unsat
   * answers down.
   */
  async check(f: B, goal: string, tier: readonly string[] | undefined, share: number, keep = false, mbqi = false): Promise<{ result: string; reason: string }> {
    this.solver.push();
    if (this.L.backend.unbounded) this.solver.set("smt.mbqi", mbqi);
    const hyps = this.L.backend.unbounded ? this.hyps.filter((h) => !tier || tier.includes(h.id) || h.id === goal) : [];
    this.solver.add(...hyps.map((h) => h.holds), f);
    const r = await this.budget.check(this.solver, share);
    if (r.result !== "sat" || !keep) this.solver.pop();
    return r;
  }

  /** After a sat check: the counterexample, then the solver back as it was. */
  cti(inst: Instance, goal: Goal): Cti {
    try {
      return this.modelCti(inst, goal);
    } finally {
      this.solver.pop();
    }
  }

  /** After a sat check with `keep`: the counterexample the model gives for `goal`. */
  modelCti(inst: Instance, goal: Goal): Cti {
    return readCti(this.L, this.solver.model(), this.pre, inst, this.args, goal.id, this.fault?.model);
  }

  /** After a sat check with `keep`: f is true in the model. */
  trueInModel(f: B): boolean {
    return this.L.smt.Z.isTrue(this.solver.model().eval(f, true));
  }

  /** Back to the solver before a sat check with `keep`. */
  pop(): void {
    this.solver.pop();
  }

  release(): void {
    this.solver.release();
  }
}

/** Small worlds of the proof's shape, one per assignment of protected flags to the slots. */
export function ctiWorlds(shape: Required<ShapeOptions>): World[] {
  const b = shape.blockPages;
  const flags = (n: number): boolean[][] => (n === 0 ? [[]] : flags(n - 1).flatMap((f) => [[...f, true], [...f, false]]));
  return flags(shape.vms).map(
    (prot) =>
      new World(
        parseWorldConfig({
          pages: 2 * b + 2,
          mmio: [[2 * b + 1, 2 * b + 2]],
          nomap: [2 * b],
          blockPages: b,
          maxShareCount: 2,
          vms: prot.map((p) => ({ protected: p, vcpus: shape.vcpuSlots, gfns: b + 1 })),
        }),
      ),
  );
}

export class Prover {
  readonly shape: Required<ShapeOptions>;
  private readonly goals = goals();
  private readonly worlds: World[];
  /** The goals asked for and the closure of their hypotheses. */
  readonly proving: readonly string[];
  /** The current obligation's: every frame's checks draw on it. */
  private readonly budget: Budget;
  /** Obligations reported, and how many run() has in all (for progress). */
  private done = 0;
  private total = 0;
  /** The obligation being proved, for onCheck. */
  private current = { transition: "", goal: "" };

  private constructor(readonly smt: Smt, readonly opts: ProofOptions) {
    this.budget = new Budget(opts.rlimit, opts.timeoutMs ?? 10000);
    if (opts.onCheck) this.budget.onCheck = (solver, result) => opts.onCheck!({ ...this.current, solver, result });
    this.shape = { vms: opts.vms ?? 2, vcpuSlots: opts.vcpuSlots ?? 2, blockPages: opts.blockPages ?? 2 };
    this.worlds = ctiWorlds(this.shape);
    const all = [...new Set(this.goals.map((g) => g.id))];
    this.proving = !opts.goals ? all : opts.assumeInvariants ? opts.goals : closure(opts.goals);
  }

  static async create(opts: ProofOptions = {}): Promise<Prover> {
    return new Prover(new Smt(await z3()), opts);
  }

  private wanted(g: Goal): boolean {
    return this.proving.includes(g.id);
  }

  /** A goal proved over each transition: a corollary's state form follows instead. */
  private perTransition(g: Goal): boolean {
    return this.wanted(g) && !(g.state && COROLLARIES[g.id]);
  }

  /** An obligation starts: a fresh budget. */
  private begin(transition: string, goal: string): void {
    this.current = { transition, goal };
    this.budget.start();
    this.opts.onStart?.({ done: this.done, total: this.total, transition, goal });
  }

  private report(o: Obligation): Obligation {
    this.done++;
    this.opts.onObligation?.(o);
    return o;
  }

  /** Inv holds in every initial state of every config of this shape. */
  async initial(): Promise<Obligation[]> {
    const L = symbolicLayout(this.smt, this.shape);
    const init = symbolicInitialState(L);
    const k = new SymPkvm(L, init.state);
    const solver = new this.smt.Z.Solver();
    solver.add(...L.axioms, ...init.axioms);
    const out: Obligation[] = [];
    for (const g of this.goals) {
      if (!g.state || !this.wanted(g)) continue;
      const t0 = Date.now();
      this.begin("initial state", g.id);
      solver.push();
      solver.add(this.smt.not(g.state(k)));
      const r = await this.budget.check(solver);
      solver.pop();
      const verdict: Verdict = r.result === "unsat" ? "proved" : r.result === "sat" ? "cti" : "unknown";
      const reason = verdict === "unknown" ? r.reason : undefined;
      out.push(this.report({ transition: "initial state", goal: g.id, kind: g.kind, verdict, ms: Date.now() - t0, rlimit: this.budget.spent, reason, ...(verdict === "proved" ? { closedBy: "z3" as const } : {}) }));
    }
    solver.release();
    return out;
  }

  /** Each wanted corollary follows, in every state, from the goals COROLLARIES names. */
  async corollaries(): Promise<Obligation[]> {
    const wanted = this.goals.filter((g) => g.state && COROLLARIES[g.id] && this.wanted(g));
    if (wanted.length === 0) return [];
    const frame = new Frame(symbolicLayout(this.smt, this.shape), this.goals, this.budget, this.opts.fault);
    const out: Obligation[] = [];
    try {
      for (const g of wanted) {
        const t0 = Date.now();
        this.begin("every state", g.id);
        const r = await frame.check(this.smt.not(g.state!(frame.k)), "", COROLLARIES[g.id], 1);
        const verdict: Verdict = r.result === "unsat" ? "proved" : "unknown";
        const reason = verdict === "proved" ? undefined : r.result === "sat" ? `does not follow from ${COROLLARIES[g.id].join(", ")}` : r.reason;
        out.push(this.report({ transition: "every state", goal: g.id, kind: g.kind, verdict, ms: Date.now() - t0, rlimit: this.budget.spent, reason, ...(verdict === "proved" ? { closedBy: "z3" as const } : {}) }));
      }
    } finally {
      frame.release();
    }
    return out;
  }

  /** Every goal over one action (slot 0 acting where it takes one); corollaries' state forms follow. */
  async transition(action: string): Promise<Obligation[]> {
    const def = ACTION_BY_NAME.get(action)!;
    const inst: Instance = { action: def, vm: 0 };
    const name = instanceName(inst);
    const frame = new Frame(symbolicLayout(this.smt, this.shape), this.goals, this.budget, this.opts.fault);
    const finite: Frame[] = [];
    const out: Obligation[] = [];
    try {
      for (const g of this.goals) {
        if (!this.perTransition(g)) continue;
        const t0 = Date.now();
        this.begin(name, g.id);
        let verdict: Verdict = "proved";
        let reason: string | undefined;
        let cti: Cti | undefined;
        const closed = { frame: 0, folded: 0 };
        const open = await frame.openCases(inst, g, closed);
        const closedBy: ClosedBy = open.length > 0 ? "z3" : closed.frame > 0 ? "frame" : "folding";
        for (const { b, part, neg } of open) {
          const r = await this.refute(frame, neg, g.id, () => this.search(finite, inst, g, b, part));
          if (r.result === "unsat") continue;
          verdict = r.cti ? "cti" : "unknown";
          cti = r.cti && { ...r.cti, reach: reachability(r.cti, this.opts.fault?.model) };
          reason = r.cti ? undefined : r.reason || "no counterexample in the small worlds";
          break;
        }
        out.push(this.report({ transition: name, caller: def.caller, goal: g.id, kind: g.kind, verdict, ms: Date.now() - t0, rlimit: this.budget.spent, cti, reason, ...(verdict === "proved" ? { closedBy } : {}) }));
      }
    } finally {
      frame.release();
      finite.forEach((f) => f.release());
    }
    return out;
  }

  /**
   * Hunting, not proving (the kill matrix): the first counterexample to induction of a wanted
   * property over these actions, searched in the small worlds alone, which find models fast.
   * Only counterexamples `accept` takes count. Undefined when there is none there. No
   * reachability search: the exploring engines give the fault's counterexamples from the start.
   */
  async hunt(actions: readonly string[], accept: (cti: Cti, goal: string) => boolean = () => true): Promise<Obligation | undefined> {
    const t0 = Date.now();
    this.budget.start();
    const finite = this.worlds.map((w) => new Frame(concreteLayout(this.smt, w), this.goals, this.budget, this.opts.fault));
    try {
      for (const action of actions) {
        const def = ACTION_BY_NAME.get(action)!;
        const inst: Instance = { action: def, vm: 0 };
        for (const f of finite) {
          const found = await this.huntIn(f, inst, accept);
          if (!found) continue;
          return this.report({ transition: instanceName(inst), caller: def.caller, goal: found.goal.id, kind: "property", verdict: "cti", ms: Date.now() - t0, rlimit: this.budget.spent, cti: found.cti });
        }
      }
      return undefined;
    } finally {
      finite.forEach((f) => f.release());
    }
  }

  /**
   * One small world: is any wanted property broken by the action? One check asks it of every
   * property at once; a model that only `accept`-refused properties break takes them out of the
   * next round.
   */
  private async huntIn(f: Frame, inst: Instance, accept: (cti: Cti, goal: string) => boolean): Promise<{ goal: Goal; cti: Cti } | undefined> {
    let cases: { g: Goal; neg: B }[] = [];
    for (const g of this.goals.filter((g) => g.kind === "property" && (!this.opts.goals || this.opts.goals.includes(g.id)))) {
      for (const { neg } of await f.openCases(inst, g)) cases.push({ g, neg });
    }
    while (cases.length > 0) {
      if ((await f.check(this.smt.or(...cases.map((c) => c.neg)), "", undefined, 1, true)).result !== "sat") return undefined;
      const broken = [...new Set(cases.filter((c) => f.trueInModel(c.neg)).map((c) => c.g))];
      try {
        for (const g of broken) {
          const cti = f.modelCti(inst, g);
          if (accept(cti, g.id)) return { goal: g, cti };
        }
      } finally {
        f.pop();
      }
      cases = cases.filter((c) => !broken.includes(c.g));
    }
    return undefined;
  }

  /**
   * Tries the tiers of hypotheses in turn, the smaller ones with a quarter of the budget each;
   * before the last (the slow one), the small worlds are searched for a counterexample; a goal
   * with one tier (a corollary's step form: quick) is searched for only when it fails. A model
   * of the unbounded encoding is never read back: its arrays are lambdas.
   */
  private async refute(frame: Frame, f: B, goal: string, search: () => Promise<Cti | undefined>): Promise<{ result: string; reason: string; cti?: Cti }> {
    let r = { result: "unknown", reason: "" };
    const tiers = tiersOf(goal);
    for (let i = 0; i < tiers.length; i++) {
      if (i > 0 && i === tiers.length - 1) {
        const cti = await search();
        if (cti) return { result: "sat", reason: "", cti };
      }
      r = await frame.check(f, goal, tiers[i], i < tiers.length - 1 ? 1 / 4 : 1);
      if (r.result === "unsat") return r;
    }
    // E-matching ran out of instances: model-based instantiation may find the missing ones.
    if (r.reason.includes("incomplete")) r = await frame.check(f, goal, undefined, 1, false, true);
    if (r.result !== "unsat" && tiers.length === 1) {
      const cti = await search();
      if (cti) return { result: "sat", reason: "", cti };
    }
    return r;
  }

  /** The obligation in each small world, finite encoding: a model is a counterexample. */
  private async search(finite: Frame[], inst: Instance, g: Goal, b: number, part?: number): Promise<Cti | undefined> {
    if (finite.length === 0) {
      for (const w of this.worlds) finite.push(new Frame(concreteLayout(this.smt, w), this.goals, this.budget, this.opts.fault));
    }
    for (const f of finite) {
      const neg = f.negation(inst, g, b, part);
      if (!neg) continue;
      if ((await f.check(neg, g.id, undefined, 1, true)).result === "sat") return f.cti(inst, g);
    }
    return undefined;
  }

  /** The initial state, then every wanted action. */
  async run(): Promise<ProofReport> {
    const t0 = Date.now();
    const obligations = [...(await this.initial()), ...(await this.corollaries())];
    const actions = this.opts.actions ?? Object.keys(SMT_TRANSITIONS).filter((a) => this.opts.allowInternal || ACTION_BY_NAME.get(a)!.caller !== "internal");
    const states = this.goals.filter((g) => g.state && this.wanted(g));
    this.total = states.length + states.filter((g) => COROLLARIES[g.id]).length + actions.length * this.goals.filter((g) => this.perTransition(g)).length;
    for (const action of actions) obligations.push(...(await this.transition(action)));
    return { shape: this.shape, actions, obligations, ms: Date.now() - t0 };
  }
}

/** Proves every goal over every transition: the whole induction. */
export async function prove(opts: ProofOptions = {}): Promise<ProofReport> {
  return (await Prover.create(opts)).run();
}
