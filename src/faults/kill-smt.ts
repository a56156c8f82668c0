// One seeded fault through the SMT engine: the inductive proof, run against the fault's SMT twin
// over the transitions it changes (the others keep their proofs). The fault is caught by a
// counterexample to induction of a property that the reference engine confirms: under the fault
// the step violates the property, and on the real model, from the same state, it does not. So
// neither the real model's known findings nor a proof that needs a stronger invariant are
// credited to the fault.

import { replayCti } from "../smt/cti.js";
import { Prover, SMT_FORMS } from "../smt/index.js";
import { SMT_TRANSITIONS } from "../smt/transitions.js";
import type { Fault } from "./fault.js";
import type { Kill } from "./kill.js";

/** `properties`: the ids the fault may be caught by (those with an SMT form are tried). */
export async function killSmt(fault: Fault, properties: readonly string[], timeoutMs: number): Promise<Kill> {
  const config = "every memory size";
  if (!fault.smt) return { engine: "smt", config, caught: false, ms: 0, stop: "n/a", na: fault.smtNa };
  const t0 = Date.now();
  const actions = fault.smt.kernel ? Object.keys(SMT_TRANSITIONS) : Object.keys(fault.smt.transitions ?? {});
  const goals = properties.filter((id) => SMT_FORMS[id]);
  const prover = await Prover.create({ goals, timeoutMs, fault: { smt: fault.smt, model: fault.variant } });
  const found = await prover.hunt(actions, (cti, goal) => cti.replay.violation !== null && replayCti(cti, goal).violation === null);
  const ms = Date.now() - t0;
  if (!found) return { engine: "smt", config, caught: false, ms, stop: "no counterexample to induction in the small worlds" };
  return { engine: "smt", config, caught: true, property: found.goal, ms, cti: { transition: found.transition, cti: found.cti! } };
}
