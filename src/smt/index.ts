// The SMT engine (z3), for the CLI: inductive proofs for every memory size, bounded model
// checking of a config, and which properties have an SMT form.

import type { WorldConfig } from "../../model/config.js";
import type { ShapeOptions } from "./layout.js";
import { SMT_FORMS } from "./forms.js";

export { closure, prove, Prover, type Obligation, type ProofOptions, type ProofReport, type Verdict } from "./prove.js";
export { bmc, Bmc, type BmcOptions, type BmcResult, type BmcViolation } from "./bmc.js";
export type { Cti } from "./cti.js";
export type { ShapeOptions } from "./layout.js";
export { INVARIANTS } from "./invariants.js";
export { SMT_FORMS } from "./forms.js";

/** "state", "step", "state+step", or null: how a property is stated for z3 (`pkvm-check list`). */
export function smtFormOf(id: string): "state" | "step" | "state+step" | null {
  const f = SMT_FORMS[id];
  if (!f) return null;
  return f.state && f.step ? "state+step" : f.state ? "state" : "step";
}

/**
 * The proof shape for a config: its blockPages, its VM and vCPU slots (at most 2 each: slots
 * are symmetric, and a proof's cost grows with them). Sizes (pages, gfns, layout, share count)
 * stay symbolic. A config with memcache: true is proved without the memcache.
 */
export function shapeOf(config: WorldConfig): Required<ShapeOptions> {
  return {
    blockPages: config.blockPages,
    vms: Math.max(1, Math.min(2, config.vms.length)),
    vcpuSlots: Math.min(2, Math.max(1, ...config.vms.map((v) => v.vcpus))),
  };
}
