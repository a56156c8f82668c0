import { ACTIONS } from "../../model/actions.js";
import { RETURNS } from "../../model/errno.js";
import type { Property, TemporalProperty } from "../../properties/property.js";
import type { ModelVariant } from "../engine.js";
import type { Obligation } from "../smt/prove.js";
import type { ProofScope } from "../smt/scope.js";
import type { KnownFinding } from "./baseline.js";

/** What every exploring engine run of `check` is given. */
export interface ExploreRunOptions {
  properties: readonly Property[];
  /** Checked by the exhaustive search on its state graph; other engines report them skipped. */
  temporal?: readonly TemporalProperty[];
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
  /** Polled by the search: true stops it early (SIGINT / SIGTERM), with what it found so far. */
  stopped?: () => boolean;
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
  | "known"
  /** Not checked by this engine (a temporal property outside the exhaustive search); `message` says why. */
  | "skipped"
  /**
   * A proof asked for that did not complete: a counterexample to induction, or obligations z3
   * left open (unknown). Fails the gate unless --allow-unproved: it is not a proof.
   */
  | "unproved";

export interface Verdict {
  property: string;
  status: Status;
  message?: string;
  /** The counterexample's file, and its length in steps. */
  counterexample?: string;
  /** Why the counterexample could not be written (a full disk, a link in the way). */
  writeError?: string;
  steps?: number;
  known?: string;
  /** A temporal property's kind; absent for state and step properties. */
  kind?: TemporalProperty["kind"];
  /** An unproved proof: the obligations it rests on that were not proved. */
  open?: OpenObligation[];
}

/** A proof obligation left open: a counterexample to induction, or z3's "unknown" and why. */
export interface OpenObligation {
  transition: string;
  goal: string;
  verdict: "cti" | "unknown";
  reason?: string;
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
  /** smt: what the proof claims (src/smt/scope.ts). */
  scope?: ProofScope;
}

/** What fails the gate besides new violations. */
export interface FailOn {
  /** Known findings (--strict). */
  strict: boolean;
  /** Not a proof that did not complete (--allow-unproved). */
  allowUnproved: boolean;
}

export function failed(r: EngineReport, on: FailOn): boolean {
  return r.verdicts.some((v) => v.status === "fail" || (on.strict && v.status === "known") || (!on.allowUnproved && v.status === "unproved"));
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
