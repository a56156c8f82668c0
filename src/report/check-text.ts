// The text summary of `check`: per engine run its figures, its verdicts and its warnings; an
// incomplete search says so plainly and is never presented as a proof.

import type { EngineReport } from "../check/report.js";
import { formatScope } from "../smt/scope.js";

const MARK = { pass: "ok", bounded: "ok (bounded)", fail: "VIOLATED", known: "known finding", skipped: "skipped", unproved: "NOT PROVED" } as const;

export function formatCheck(r: EngineReport): string {
  const lines = [`== ${r.engine} on ${r.config}`];
  lines.push(`   ${Object.entries(r.stats).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  if (r.scope) lines.push(...formatScope(r.scope).map((l) => `   ${l}`));
  if (!r.complete) lines.push(`   INCOMPLETE: stopped by ${r.stop}; no violation found in what was covered is not a proof`);
  const width = Math.max(0, ...r.verdicts.map((v) => v.property.length));
  for (const v of r.verdicts) {
    const detail = v.status !== "pass" && v.message ? `  ${v.message}` : "";
    const where = v.counterexample
      ? `  -> ${v.counterexample}${v.steps !== undefined ? ` (${v.steps} steps)` : ""}`
      : v.writeError ? `  (counterexample not written: ${v.writeError})` : "";
    const known = v.known ? ` ${v.known}` : "";
    const kind = v.kind ? ` [${v.kind}]` : "";
    lines.push(`   ${v.property.padEnd(width)}  ${MARK[v.status]}${known}${kind}${detail}${where}`);
  }
  if (r.coverage) {
    lines.push("   action coverage (returns):");
    for (const [action, rets] of Object.entries(r.coverage)) {
      lines.push(`     ${action}: ${Object.entries(rets).map(([ret, n]) => `${ret} ${n}`).join(", ")}`);
    }
  }
  const open = (r.obligations ?? []).filter((o) => o.verdict !== "proved");
  if (open.length > 0) lines.push("   obligations not proved:");
  for (const o of open) lines.push(`     ${o.transition} ${o.goal}: ${o.verdict}${o.reason ? ` (${o.reason})` : ""}`);
  for (const w of r.warnings) lines.push(`   warning: ${w}`);
  return lines.join("\n");
}
