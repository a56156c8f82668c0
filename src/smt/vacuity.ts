// Non-vacuity of the induction step: a proof "Inv(s) and branch(s, a) implies G(s')" passes
// trivially where Inv and the branch's guard contradict each other. For every transition and
// every region of its symbolic outcome (each state-changing branch, and each return of the
// calls that change nothing), Inv and the region's guard are asked together:
// - in the small worlds of the proof's shape (finite encoding): a model is a witness state,
//   decoded into a concrete state (src/smt/cti.ts) and replayed on the reference engine, which
//   must take the same region: the same return and the state z3's branch gives;
// - else in the unbounded encoding: unsat means the invariant excludes the region (legitimate
//   for a PANIC the invariant rules out, say; a vacuous branch otherwise), sat a region that is
//   not vacuous but has no witness small enough to replay.
// Inv here is what the gate's proof assumes (closure of GATE_PROPERTIES); the ghost numbering's
// own invariants are left out of the small worlds, as in the counterexample search.

import { ACTION_BY_NAME } from "../../model/actions.js";
import { RETURNS, type Ret } from "../../model/errno.js";
import { PkvmState } from "../../model/state.js";
import { World } from "../../model/world.js";
import { PROPERTIES } from "../../properties/registry.js";
import { Engine } from "../engine.js";
import { readCti, stateWords } from "./cti.js";
import { SMT_FORMS } from "./forms.js";
import { freshGhost } from "./ghost.js";
import { INVARIANTS } from "./invariants.js";
import { SymPkvm } from "./kernel.js";
import { concreteLayout, symbolicLayout, type Layout, type ShapeOptions } from "./layout.js";
import { closure, ctiWorlds } from "./prove.js";
import type { Outcome } from "./flow.js";
import { argsWellFormed, encode, freshArgs, instanceName, type Instance } from "./relation.js";
import { GATE_PROPERTIES } from "./scope.js";
import { freshState, type SymState } from "./state.js";
import { SMT_TRANSITIONS, type SymArgs } from "./transitions.js";
import { Budget, Smt, z3, type B, type N } from "./z3.js";

export type Witnessed = "witnessed" | "satisfiable" | "unreachable-under-invariant" | "never" | "unknown";

export interface RegionVerdict {
  readonly transition: string;
  /** "branch 2" (a state-changing branch) or "no change, returns -EPERM". */
  readonly region: string;
  /**
   * witnessed: a concrete state of a small world, replayed on the reference engine into the same
   * region; satisfiable: only the unbounded encoding found a model (nothing to replay);
   * unreachable-under-invariant: unsat in the unbounded encoding under Inv, sat without it;
   * never: unsat without Inv too (a return the action never gives); unknown: z3 gave up.
   */
  readonly verdict: Witnessed;
  /** witnessed: the return the reference engine gave, and which small world (ctiWorlds' index). */
  readonly ret?: Ret;
  readonly world?: number;
  /** The replay left the region (a bug of the encoding or of the decoding): what differed. */
  readonly mismatch?: string;
  readonly reason?: string;
}

export interface VacuityOptions extends ShapeOptions {
  /** Default: every encoded action the adversary can take. */
  actions?: readonly string[];
  allowInternal?: boolean;
  /** z3 resource units per unbounded check (default 5 M); small worlds are bounded by time. */
  rlimit?: number;
  timeoutMs?: number;
}

/** The state forms of the gate's hypotheses, by id. */
function hypotheses(L: Layout, s: SymState): B[] {
  const k = new SymPkvm(L, s);
  return closure(GATE_PROPERTIES).flatMap((id) => {
    const inv = INVARIANTS.find((i) => i.id === id);
    if (inv) return inv.ghostOnly && !s.ghost ? [] : [inv.holds(k)];
    const form = SMT_FORMS[id]?.state;
    return form ? [form(k)] : [];
  });
}

/** A region of an outcome: its guard and the state after, given the outcome and the pre-state. */
interface Region {
  readonly name: string;
  readonly pick: (L: Layout, o: Outcome, pre: SymState) => { when: B; post: SymState };
}

/** The regions of an action's outcome, named from its encoding in the unbounded layout. */
function regions(L: Layout, o: Outcome): Region[] {
  const { smt } = L;
  const none = (Lx: Layout, ox: Outcome) => Lx.smt.not(Lx.smt.or(...ox.branches.map((b) => b.when)));
  const out: Region[] = o.branches.map((_, i) => ({
    name: `branch ${i}`,
    pick: (Lx, ox, pre) => ox.branches[i] ?? { when: Lx.smt.F, post: pre },
  }));
  RETURNS.forEach((r, code) => {
    if (smt.lit(smt.and(none(L, o), smt.eq(o.ret, code))) === false) return;
    out.push({ name: `no change, returns ${r}`, pick: (Lx, ox, pre) => ({ when: Lx.smt.and(none(Lx, ox), Lx.smt.eq(ox.ret, code)), post: pre }) });
  });
  return out;
}

/** The witness replayed: the engine's return, and what differed if it left the region z3's model took. */
function replayMismatch(L: Layout, m: Parameters<typeof readCti>[1], w: World, pre: SymState, post: SymState, ret: N, inst: Instance, args: SymArgs): { ret: Ret; mismatch?: string } {
  const cti = readCti(L, m, pre, inst, args, "");
  const before = new PkvmState(w, Uint32Array.from(cti.pre));
  const broken = PROPERTIES.filter((p) => GATE_PROPERTIES.includes(p.id)).map((p) => p.checkState?.(before)).find((f) => f);
  if (broken) return { ret: cti.replay.ret, mismatch: `the witness breaks a headline property: ${broken.message}` };
  const r = new Engine(w).step(before.s, { action: ACTION_BY_NAME.get(inst.action.name)!, args: cti.step.args });
  const expectedRet = RETURNS[Number((m.eval(ret, true) as unknown as { value(): bigint }).value())];
  if (r.ret !== expectedRet) return { ret: r.ret, mismatch: `the engine returned ${r.ret}, z3's branch ${expectedRet}` };
  const want = stateWords(L, w, post, m);
  const at = want.findIndex((x, i) => x !== r.state[i]);
  return at < 0 ? { ret: r.ret } : { ret: r.ret, mismatch: `the engine's state differs from z3's branch at word ${at}` };
}

/** Every region of every action: witnessed, satisfiable, excluded by Inv, or unknown. */
export async function nonVacuity(opts: VacuityOptions = {}): Promise<RegionVerdict[]> {
  const smt = new Smt(await z3());
  const shape = { vms: opts.vms ?? 2, vcpuSlots: opts.vcpuSlots ?? 2, blockPages: opts.blockPages ?? 2 };
  const actions = opts.actions ?? Object.keys(SMT_TRANSITIONS).filter((a) => opts.allowInternal || ACTION_BY_NAME.get(a)!.caller !== "internal");
  const budget = new Budget(opts.rlimit ?? 5_000_000, opts.timeoutMs ?? 60_000);
  const small = ctiWorlds(shape).map((w) => {
    const L = concreteLayout(smt, w);
    const pre = freshState(L, "s");
    return { w, L, pre, hyps: hypotheses(L, pre) };
  });
  const U = symbolicLayout(smt, shape);
  const upre: SymState = { ...freshState(U, "s"), ghost: freshGhost(U, "s") };
  const uhyps = hypotheses(U, upre);
  const out: RegionVerdict[] = [];
  for (const action of actions) {
    const inst: Instance = { action: ACTION_BY_NAME.get(action)!, vm: 0 };
    const at = (x: Setting): Encoded => {
      const args = freshArgs(x.L, inst.vm);
      return { ...x, args, o: encode(x.L, x.pre, action, args) };
    };
    const encoded = { small: small.map(at), unbounded: at({ L: U, pre: upre, hyps: uhyps }) };
    for (const region of regions(U, encoded.unbounded.o)) out.push(await decide(smt, budget, encoded, inst, region));
  }
  return out;
}

/** A layout (a small world's, or the unbounded one), its fresh pre-state, Inv on it. */
interface Setting {
  readonly w?: World;
  readonly L: Layout;
  readonly pre: SymState;
  readonly hyps: B[];
}

/** A layout with the action's outcome on its fresh arguments. */
interface Encoded extends Setting {
  readonly args: SymArgs;
  readonly o: Outcome;
}

async function decide(smt: Smt, budget: Budget, e: { small: readonly Encoded[]; unbounded: Encoded }, inst: Instance, region: Region): Promise<RegionVerdict> {
  const transition = instanceName(inst);
  const ask = async (x: Encoded, keep: (solver: InstanceType<Smt["Z"]["Solver"]>, r: { result: string; reason: string }) => RegionVerdict | undefined, hyps = true) => {
    const { when } = region.pick(x.L, x.o, x.pre);
    if (x.L.smt.lit(when) === false) return undefined;
    const solver = new smt.Z.Solver();
    try {
      solver.add(...x.L.axioms, argsWellFormed(x.L, x.args), ...(hyps ? x.hyps : []), when);
      budget.start();
      return keep(solver, await budget.check(solver));
    } finally {
      solver.release();
    }
  };
  for (const [i, x] of e.small.entries()) {
    const found = await ask(x, (solver, r) => {
      if (r.result !== "sat") return undefined;
      const { post } = region.pick(x.L, x.o, x.pre);
      return { transition, region: region.name, verdict: "witnessed", world: i, ...replayMismatch(x.L, solver.model(), x.w!, x.pre, post, x.o.ret, inst, x.args) };
    });
    if (found) return found;
  }
  // Excluded under Inv: without it too (a return the action never gives) is no vacuity.
  const never = () => ask(e.unbounded, (_, r) => (r.result === "unsat" ? { transition, region: region.name, verdict: "never" } : undefined), false);
  const verdict = await ask(e.unbounded, (_, r) =>
    r.result === "unsat"
      ? { transition, region: region.name, verdict: "unreachable-under-invariant" }
      : r.result === "sat"
        ? { transition, region: region.name, verdict: "satisfiable", reason: "no witness in the small worlds" }
        : { transition, region: region.name, verdict: "unknown", reason: r.reason },
  );
  if (verdict?.verdict === "unreachable-under-invariant") return (await never()) ?? verdict;
  return verdict ?? { transition, region: region.name, verdict: "never", reason: "its guard folds to false" };
}
