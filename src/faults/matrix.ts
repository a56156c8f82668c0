// The kill matrix: every seeded fault through every engine, and each fault's shortest
// counterexample kept as a regression trace. A trace is kept only if it replays as a regression
// test must: under its fault it violates the same property, under the real model nothing.

import type { KnownFinding } from "../check/baseline.js";
import { replay } from "../replay.js";
import { writeCounterexample } from "../trace.js";
import { PROPERTIES } from "../../properties/registry.js";
import type { Fault } from "./fault.js";
import { kill, type Kill, type KillBudget } from "./kill.js";
import { killSmt } from "./kill-smt.js";
import { maskRealModelFindings } from "./known.js";

export interface FaultRow {
  fault: Fault;
  kills: Kill[];
  /** The shortest counterexample that replays as a regression trace, once written. */
  counterexample?: string;
  /** Why no counterexample could be kept, when an engine caught the fault. */
  problem?: string;
}

export interface MatrixOptions {
  budget: KillBudget;
  baseline: readonly KnownFinding[];
  /** Where the regression traces go. */
  out: string;
  onRow?: (row: FaultRow, index: number) => void;
}

export const caught = (row: FaultRow): boolean => row.kills.some((k) => k.caught);

/** The length of the fault's shortest counterexample trace, over the exploring engines. */
export function shortest(row: FaultRow): number | undefined {
  const lengths = row.kills.flatMap((k) => (k.caught && k.trace ? [k.steps!] : []));
  return lengths.length > 0 ? Math.min(...lengths) : undefined;
}

/** Why a fault's counterexample is no regression trace, or null when it is one. */
function regressionProblem(fault: Fault, k: Kill): string | null {
  const trace = k.trace!;
  const real = replay(trace).violations[0];
  if (real) return `${k.engine}'s counterexample violates ${real.property} on the real model too (step ${real.step})`;
  const under = replay(trace, { variant: fault.variant }).violations;
  if (!under.some((v) => v.property === trace.violation.property)) return `${k.engine}'s counterexample does not replay under the fault`;
  return null;
}

function keepCounterexample(row: FaultRow, out: string): void {
  const problems: string[] = [];
  for (const k of row.kills.filter((k) => k.caught && k.trace).sort((a, b) => a.steps! - b.steps!)) {
    const problem = regressionProblem(row.fault, k);
    if (problem) {
      problems.push(problem);
      continue;
    }
    row.counterexample = writeCounterexample(out, k.trace!);
    return;
  }
  if (problems.length > 0) row.problem = problems.join("; ");
}

export async function killMatrix(faults: readonly Fault[], o: MatrixOptions): Promise<FaultRow[]> {
  const properties = maskRealModelFindings(PROPERTIES, o.baseline);
  const rows: FaultRow[] = [];
  for (const [i, fault] of faults.entries()) {
    const kills = [kill(fault, "bfs", properties, o.budget), kill(fault, "random", properties, o.budget)];
    kills.push(await killSmt(fault, PROPERTIES.map((p) => p.id), o.budget.smtTimeoutMs));
    const row: FaultRow = { fault, kills };
    keepCounterexample(row, o.out);
    o.onRow?.(row, i);
    rows.push(row);
  }
  return rows;
}
