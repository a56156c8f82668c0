// `check --engine smt`: inductive proofs with z3 for every memory size (the config gives only the
// proof's shape: VM slots, vCPU slots, blockPages), and with --bmc K a bounded model check of the
// config itself. A property is "pass" only when every obligation is proved; a counterexample to
// induction or an obligation z3 left open makes it "unproved", with what stands in the way.

import { World } from "../../model/world.js";
import type { Property } from "../../properties/property.js";
import type { NamedConfig } from "../configs.js";
import { Engine } from "../engine.js";
import { smtlibWriter } from "../smt/certificates.js";
import { formatReach } from "../smt/cti.js";
import { proofScope } from "../smt/scope.js";
import { bmc, closure, prove, shapeOf, SMT_FORMS, type Obligation, type ProofOptions, type ProofReport } from "../smt/index.js";
import { statusLine } from "../report/progress.js";
import { matchKnown, type KnownFinding } from "./baseline.js";
import { counterexampleTrace, savedCounterexample } from "./counterexample.js";
import type { EngineReport, OpenObligation, Verdict } from "./report.js";
import type { Fault } from "../faults/fault.js";

export interface SmtRunOptions {
  properties: readonly Property[];
  out: string;
  baseline: readonly KnownFinding[];
  /** z3 resource units per proof obligation: the verdict's bound (undefined: none). */
  rlimit?: number;
  /** Per proof obligation, wall-clock: with rlimit a safety net only. */
  timeoutMs: number;
  /** Depth of the bounded model check; none when undefined. */
  bmcDepth?: number;
  /** Per query of the bounded model check, wall-clock. */
  bmcTimeoutMs: number;
  allowInternal: boolean;
  /** A seeded fault: its SMT twin is proved over the transitions it changes. */
  fault?: Fault;
  /** Progress on stderr: obligations done of all, the one being proved, time. */
  progress: boolean;
  /** Progress lines even when stderr is not a terminal (--progress). */
  progressForced?: boolean;
  /** Write every z3 check as an SMT-LIB 2 file into this directory (src/smt/certificates.ts). */
  emitSmtlib?: string;
}

/** prove() with a progress line every few seconds (plain: the search's live line may share the terminal). */
async function proveShowing(opts: ProofOptions, progress: boolean, forced: boolean): Promise<ProofReport> {
  if (!progress) return prove(opts);
  const line = statusLine("smt", { plainOnly: true, forced });
  const t0 = Date.now();
  let now = "starting z3";
  const tick = setInterval(() => line.update(Date.now() - t0, now), 1000);
  try {
    return await prove({ ...opts, onStart: (p) => (now = `${p.done}/${p.total} obligations, proving ${p.goal} over ${p.transition}`) });
  } finally {
    clearInterval(tick);
    line.done();
  }
}

/**
 * The default z3 resource budget per obligation (check --smt-rlimit). Measured on the gate's 661
 * obligations (shape of `default`, three runs): the most any check needed, scaled by its share
 * of the budget, was 3.0 M units (whole-blocks over host_force_reclaim_page_guest, in a check
 * with a quarter of the budget); the same obligation needs up to six times less in another run
 * (z3's search depends on the order terms are freed in). Five times the most: the gate passes
 * with margin, on any machine, at any load.
 */
export const SMT_RLIMIT = 15_000_000;

/** Proved when its obligations and those of every invariant its proof assumes are. */
export function proofVerdict(id: string, obligations: readonly Obligation[], baseline: readonly KnownFinding[]): Verdict {
  const assumed = closure([id]);
  const mine = obligations.filter((o) => assumed.includes(o.goal));
  const cti = mine.find((o) => o.verdict === "cti");
  const unknown = mine.filter((o) => o.verdict === "unknown");
  const unproved = assumed.filter((g) => !obligations.some((o) => o.goal === g));
  if (!cti && unknown.length === 0 && unproved.length > 0) {
    return { property: id, status: "unproved", message: `proved for every transition, assuming ${unproved.length} invariants this run did not prove (check --engine smt --property ${id} proves them)` };
  }
  if (!cti && unknown.length === 0) return { property: id, status: "pass", message: `proved: ${mine.length} obligations (${assumed.length} goals)` };
  const known = cti?.cti && matchKnown(baseline, cti.goal, cti.cti.step.action);
  const why = cti
    ? `counterexample to induction of ${cti.goal} at ${cti.transition}${cti.cti?.replay.violation ? ` (replayed: ${cti.cti.replay.violation})` : ""}${known ? `, the known finding ${known}` : ""}${cti.cti?.reach ? `; its pre-state is ${formatReach(cti.cti.reach)}` : ""}`
    : `${unknown.length} of ${mine.length} obligations unknown (${unknown.slice(0, 3).map((o) => `${o.goal} at ${o.transition}`).join(", ")}${unknown.length > 3 ? `, and ${unknown.length - 3} more` : ""})`;
  const open = mine.filter((o) => o.verdict !== "proved").map((o): OpenObligation => ({ transition: o.transition, goal: o.goal, verdict: o.verdict as OpenObligation["verdict"], ...(o.reason ? { reason: o.reason } : {}) }));
  return { property: id, status: "unproved", message: `not proved: ${why}`, open };
}

export async function runSmt(named: NamedConfig, o: SmtRunOptions): Promise<EngineReport[]> {
  const ids = o.properties.map((p) => p.id).filter((id) => SMT_FORMS[id]);
  const twin = o.fault?.smt;
  const actions = twin && !twin.kernel ? Object.keys(twin.transitions ?? {}) : undefined;
  const fault = twin && { smt: twin, model: o.fault!.variant };
  const certificates = o.emitSmtlib === undefined ? undefined : smtlibWriter(o.emitSmtlib);
  const proof = await proveShowing({ ...shapeOf(named.config), rlimit: o.rlimit, timeoutMs: o.timeoutMs, goals: ids, actions, fault, allowInternal: o.allowInternal, onCheck: certificates?.onCheck }, o.progress, o.progressForced === true);
  const counts = { proved: 0, cti: 0, unknown: 0 };
  for (const ob of proof.obligations) counts[ob.verdict]++;
  const proofVerdicts = ids.map((id) => proofVerdict(id, proof.obligations, o.baseline));
  const proved = proofVerdicts.filter((v) => v.status === "pass").map((v) => v.property);
  const reports: EngineReport[] = [
    {
      engine: "smt",
      config: `every memory size, shape of ${named.name}${o.fault ? `, fault ${o.fault.name}` : ""}`,
      complete: counts.cti === 0 && counts.unknown === 0,
      stop: counts.cti + counts.unknown > 0 ? "obligations not proved" : undefined,
      stats: {
        obligations: proof.obligations.length,
        ...counts,
        ...(o.rlimit ? { rlimitPerObligation: o.rlimit } : {}),
        ...(certificates ? { smtlibFiles: Object.values(certificates.written).reduce((a, b) => a + b, 0) } : {}),
        seconds: Number((proof.ms / 1000).toFixed(2)),
      },
      scope: proofScope(proof, o.properties.map((p) => p.id), proved, o.allowInternal),
      verdicts: proofVerdicts,
      obligations: proof.obligations,
      warnings: o.properties.filter((p) => !SMT_FORMS[p.id]).map((p) => `${p.id} has no SMT form: checked by exploration only`),
    },
  ];
  if (o.bmcDepth === undefined) return reports;

  const world = new World(named.config);
  const engine = new Engine(world, o.fault?.variant);
  const r = await bmc(world, o.bmcDepth, { properties: ids, allowInternal: o.allowInternal, timeoutMs: o.bmcTimeoutMs, fault });
  const verdicts: Verdict[] = ids.map((id) => ({
    property: id,
    status: "bounded",
    message: r.unknown.includes(id) ? "unknown: z3 timed out" : `no violation within ${o.bmcDepth} steps`,
  }));
  for (const v of r.violations) {
    const verdict = verdicts.find((x) => x.property === v.property)!;
    const known = matchKnown(o.baseline, v.property, v.steps.at(-1)?.action.name);
    const trace = counterexampleTrace(engine, named.name, named.config, { property: v.property, finding: { message: v.replayed ?? "violated (z3)" }, steps: v.steps }, { engine: "smt-bmc", depth: o.bmcDepth, ...(o.fault ? { fault: o.fault.name } : {}) });
    Object.assign(verdict, {
      status: known ? "known" : "fail",
      known,
      message: v.replayed ?? `violated within ${v.depth} steps`,
      ...(known ? {} : savedCounterexample(o.out, trace)),
      steps: v.steps.length,
    });
  }
  reports.push({
    engine: `smt-bmc ${o.bmcDepth}`,
    config: named.name,
    complete: r.unknown.length === 0,
    stop: r.unknown.length > 0 ? "z3 timeouts" : undefined,
    stats: { depth: r.depth, seconds: Number((r.ms / 1000).toFixed(2)) },
    verdicts,
    warnings: [],
  });
  return reports;
}
