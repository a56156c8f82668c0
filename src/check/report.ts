import { ACTIONS } from "../../model/actions.js";
import { RETURNS } from "../../model/errno.js";
import type { Property } from "../../properties/property.js";
import type { ModelVariant } from "../engine.js";
import type { Obligation } from "../smt/prove.js";
import type { KnownFinding } from "./baseline.js";

/** What every exploring engine run of `check` is given. */
export interface ExploreRunOptions {
  properties: readonly Property[];
  /** The counterexamples' directory. */
  out: string;
  keepGoing: boolean;
  allowInternal: boolean;
  timeLimitMs?: number;
  baseline: readonly KnownFinding[];
  variant?: ModelVariant;
  /** Recorded in each counterexample's meta (the seeded fault's name). */
  fault?: string;
  progress: boolean;
  /** Progress lines even when stderr is not a terminal (--progress). */
  progressForced?: boolean;
}

// What every engine run of `check` reports, whatever the engine: one verdict per property, the
// run's figures, and warnings. The text, JSON and JUnit reporters read only this.

export type Status =
  /** Explored or proved to completion: no violation. */
  | "pass"
  /** No violation found, but the search was cut short or only sampled. */
  | "bounded"
  /** A new violation, with a counterexample. */
  | "fail"
  /** Violated, but a known finding of the baseline. */
  | "known";

export interface Verdict {
  property: string;
  status: Status;
  message?: string;
  /** The counterexample's file, and its length in steps. */
  counterexample?: string;
  steps?: number;
  known?: string;
}

export interface EngineReport {
  engine: string;
  config: string;
  /** True when the run covered everything it set out to (a full search, every proof done). */
  complete: boolean;
  /** Why a search stopped when it was not complete. */
  stop?: string;
  stats: Record<string, number | string>;
  verdicts: Verdict[];
  warnings: string[];
  /** Per action: how many steps returned each return string. */
  coverage?: Record<string, Record<string, number>>;
  /** smt: every (transition, goal) obligation with its verdict, time and counterexample. */
  obligations?: readonly Obligation[];
}

export function failed(r: EngineReport, strict: boolean): boolean {
  return r.verdicts.some((v) => v.status === "fail" || (strict && v.status === "known"));
}

/**
 * Action coverage of an engine run (coverage[action in ACTIONS][return in RETURNS]) as a record,
 * with a warning for every action of the alphabet that never succeeded: a dead action usually
 * means a modelling mistake.
 */
export function coverageOf(
  coverage: number[][],
  alphabetActions: ReadonlySet<string>,
  config: string,
): { coverage: Record<string, Record<string, number>>; warnings: string[] } {
  const out: Record<string, Record<string, number>> = {};
  const warnings: string[] = [];
  ACTIONS.forEach((a, i) => {
    if (!alphabetActions.has(a.name)) return;
    out[a.name] = Object.fromEntries(RETURNS.map((ret, j): [string, number] => [ret, coverage[i][j]]).filter(([, n]) => n > 0));
    if (!coverage[i][0]) warnings.push(`${a.name} never succeeded on ${config}: a dead action usually means a modelling mistake`);
  });
  return { coverage: out, warnings };
}
