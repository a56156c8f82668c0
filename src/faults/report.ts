// The kill matrix as text (a table, one fault a row, one engine a column) and as JSON.

import type { FaultRow } from "./matrix.js";
import { caught, shortest } from "./matrix.js";
import { bfsConfig, KILL_ENGINES, type Kill, type KillBudget } from "./kill.js";

export interface MatrixReport {
  rows: readonly FaultRow[];
  budget: KillBudget;
  seconds: number;
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function summary(rows: readonly FaultRow[]) {
  return {
    faults: rows.length,
    caught: rows.filter(caught).length,
    escaped: rows.filter((r) => !caught(r)).map((r) => r.fault.name),
    byEngine: Object.fromEntries(KILL_ENGINES.map((e) => [e, rows.filter((r) => r.kills.some((k) => k.engine === e && k.caught)).length])),
    medianSteps: median(rows.flatMap((r) => shortest(r) ?? [])),
  };
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function cell(k: Kill): string {
  if (k.na) return "n/a";
  if (!k.caught) return `-- (${k.stop}, ${secs(k.ms)})`;
  return k.cti ? `${k.property}, CTI at ${k.cti.transition}, ${secs(k.ms)}` : `${k.property}, ${k.steps} step${k.steps === 1 ? "" : "s"}, ${secs(k.ms)}`;
}

function columns(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd());
}

export function formatMatrix({ rows, budget, seconds }: MatrixReport): string {
  const s = summary(rows);
  const table = columns([
    ["fault", "bug", "config", ...KILL_ENGINES],
    ...rows.map((r) => [r.fault.name, r.fault.bug, bfsConfig(r.fault).name, ...r.kills.map(cell)]),
  ]);
  const kept = rows.filter((r) => r.counterexample).length;
  return [
    `== kill matrix: ${rows.length} seeded faults`,
    `   bfs: exhaustive on default or the fault's config, ${budget.bfsTimeLimitMs / 1000} s limit; a cell gives the property violated, the counterexample's length and the time to it`,
    `   random: seed ${budget.seed}, ${budget.randomRuns} runs, ${budget.randomTimeLimitMs / 1000} s limit, on wide or the fault's config`,
    `   smt: the inductive proof against the fault's SMT twin, for every memory size; a cell gives the property whose proof breaks, with a counterexample to induction (one step from a state of the invariant, confirmed by the reference engine under the fault and not on the real model) and the time to it`,
    ...rows.filter((r) => r.fault.smtNa).map((r) => `   smt n/a for ${r.fault.name}: ${r.fault.smtNa}`),
    "",
    ...table.map((l) => `   ${l}`),
    "",
    ...rows.filter((r) => r.problem).map((r) => `   warning: ${r.fault.name}: no regression trace kept: ${r.problem}`),
    `caught: ${s.caught} of ${s.faults} faults (${KILL_ENGINES.map((e) => `${e} ${s.byEngine[e]}`).join(", ")})${s.escaped.length ? `; ESCAPED every engine: ${s.escaped.join(", ")}` : ""}`,
    `median counterexample length: ${s.medianSteps ?? "-"} steps (each fault's shortest)`,
    `regression traces kept: ${kept} of ${s.caught} (each caught fault's shortest counterexample, meta.fault naming it)`,
    `total: ${seconds.toFixed(1)} s`,
    s.escaped.length ? "faults: FAILED" : "faults: ok",
  ].join("\n");
}

export function matrixToJson({ rows, budget, seconds }: MatrixReport): Record<string, unknown> {
  const s = summary(rows);
  return {
    ok: s.escaped.length === 0,
    seconds: Number(seconds.toFixed(2)),
    budget,
    summary: s,
    faults: rows.map((r) => ({
      name: r.fault.name,
      bug: r.fault.bug,
      description: r.fault.description,
      kills: Object.fromEntries(r.kills.map(({ trace: _, cti, ...k }) => [k.engine, cti ? { ...k, transition: cti.transition, cti: cti.cti } : k])),
      shortest: shortest(r) ?? null,
      counterexample: r.counterexample ?? null,
      ...(r.problem ? { problem: r.problem } : {}),
    })),
  };
}
