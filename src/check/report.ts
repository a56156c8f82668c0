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
}

export function failed(r: EngineReport, strict: boolean): boolean {
  return r.verdicts.some((v) => v.status === "fail" || (strict && v.status === "known"));
}
