// What a proof claims, stated by the tool: the shape it fixed (sizes stay symbolic), the actions
// it covered and those it left out and why, the properties it proved, and what closed its
// obligations (z3, the frame rule, constant folding). Every proof report carries it (text, JSON,
// SARIF), and `pkvm-check list` says per property whether the gate proves it and at what shape.

import { ACTION_BY_NAME, ACTIONS } from "../../model/actions.js";
import { resolveConfig } from "../configs.js";
import type { ProofReport } from "./prove.js";
import { shapeOf, smtFormOf } from "./index.js";
import { SMT_TRANSITIONS } from "./transitions.js";

/**
 * The properties the gate (`pkvm-check check`) proves for every memory size, each a corollary of
 * the isolation invariant (src/smt/prove.ts); the other properties' proofs are not complete at
 * the default budget and are for --engine smt.
 */
export const GATE_PROPERTIES: readonly string[] = ["host-cannot-access-guest", "guest-cannot-access-host"];

export interface ProofScope {
  /** Fixed by the proof: the config only gives these. */
  readonly shape: {
    readonly vmSlots: number;
    readonly vcpusPerVm: number;
    readonly blockPages: number;
    readonly memcache: false;
    readonly cpus: 1;
  };
  /** Left symbolic: the proof holds for every value. */
  readonly symbolic: readonly string[];
  readonly actions: { readonly covered: readonly string[]; readonly excluded: readonly { readonly action: string; readonly reason: string }[] };
  readonly properties: { readonly proved: readonly string[]; readonly notProved: readonly string[]; readonly noSmtForm: readonly string[] };
  /** Proved obligations by what closed them, and those left open. */
  readonly obligations: { readonly total: number; readonly z3: number; readonly frameRule: number; readonly constantFolding: number; readonly cti: number; readonly unknown: number };
}

const SYMBOLIC = ["pages", "guest frames per VM", "memory layout (MMIO, NOMAP, hyp pages)", "maxShareCount", "vCPUs per VM up to the slots", "protected or not per VM"];

/** Why an action of the model is not in a proof that covered `covered`. */
function exclusion(action: string, allowInternal: boolean): string {
  const def = ACTION_BY_NAME.get(action)!;
  if (!SMT_TRANSITIONS[action]) return def.memcacheOnly ? "not encoded: nor is the memcache, proofs are of configs without it" : "not encoded";
  if (def.caller === "internal" && !allowInternal) return "hyp-internal, the host cannot call it; proved over with --allow-internal";
  return "not asked (a seeded fault's twin changes only the others)";
}

/** The scope of a proof, given the properties it was asked for and those it proved. */
export function proofScope(proof: ProofReport, asked: readonly string[], proved: readonly string[], allowInternal: boolean): ProofScope {
  const covered = new Set(proof.actions);
  const done = proof.obligations.filter((o) => o.verdict === "proved");
  return {
    shape: { vmSlots: proof.shape.vms, vcpusPerVm: proof.shape.vcpuSlots, blockPages: proof.shape.blockPages, memcache: false, cpus: 1 },
    symbolic: SYMBOLIC,
    actions: {
      covered: [...covered],
      excluded: ACTIONS.filter((a) => !covered.has(a.name)).map((a) => ({ action: a.name, reason: exclusion(a.name, allowInternal) })),
    },
    properties: {
      proved,
      notProved: asked.filter((id) => smtFormOf(id) && !proved.includes(id)),
      noSmtForm: asked.filter((id) => !smtFormOf(id)),
    },
    obligations: {
      total: proof.obligations.length,
      z3: done.filter((o) => o.closedBy === "z3").length,
      frameRule: done.filter((o) => o.closedBy === "frame").length,
      constantFolding: done.filter((o) => o.closedBy === "folding").length,
      cti: proof.obligations.filter((o) => o.verdict === "cti").length,
      unknown: proof.obligations.filter((o) => o.verdict === "unknown").length,
    },
  };
}

/** The shape, one line: "2 VM slots, 2 vCPUs per VM, blockPages 2, memcache off, 1 CPU". */
export function formatShape(s: ProofScope["shape"]): string {
  return `${s.vmSlots} VM slot${s.vmSlots > 1 ? "s" : ""}, ${s.vcpusPerVm} vCPU${s.vcpusPerVm > 1 ? "s" : ""} per VM, blockPages ${s.blockPages}, memcache off, ${s.cpus} CPU`;
}

/** The scope as report lines (check's text summary). */
export function formatScope(s: ProofScope): string[] {
  const o = s.obligations;
  return [
    `scope: shape ${formatShape(s.shape)}; for every value of: ${s.symbolic.join(", ")}`,
    `actions: ${s.actions.covered.length} covered; not covered: ${s.actions.excluded.map((e) => `${e.action} (${e.reason})`).join(", ") || "none"}`,
    `properties proved: ${s.properties.proved.join(", ") || "none"}${s.properties.notProved.length ? `; not proved: ${s.properties.notProved.join(", ")}` : ""}${s.properties.noSmtForm.length ? `; explored only (no SMT form): ${s.properties.noSmtForm.join(", ")}` : ""}`,
    `obligations: ${o.total}, proved ${o.z3 + o.frameRule + o.constantFolding} (${o.z3} refuted by z3, ${o.frameRule} closed by the frame rule, ${o.constantFolding} by constant folding)${o.cti + o.unknown ? `, ${o.cti} counterexamples to induction, ${o.unknown} unknown` : ""}`,
  ];
}

/**
 * A property's standing, for `pkvm-check list`: "proved (scope ...)" when the gate proves it,
 * else "explored only (why)".
 */
export function proofStanding(id: string): string {
  const form = smtFormOf(id);
  if (!form) return "explored only (no SMT form)";
  if (!GATE_PROPERTIES.includes(id)) return `explored only (${form} form: its proof is not complete at the default budget; check --engine smt --property ${id} tries it)`;
  return `proved (scope: ${formatShape(gateShape())}, every memory size)`;
}

function gateShape(): ProofScope["shape"] {
  const s = shapeOf(resolveConfig("default").config);
  return { vmSlots: s.vms, vcpusPerVm: s.vcpuSlots, blockPages: s.blockPages, memcache: false, cpus: 1 };
}
