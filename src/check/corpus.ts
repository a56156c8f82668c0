// The regression corpus: every trace under counterexamples/ is replayed on the current model and
// must violate nothing (a counterexample of a mistake since fixed stays fixed). A trace whose
// meta names a seeded fault must still violate its property under that fault. Known findings'
// traces must still show their finding: one that no longer does has been fixed or lost.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { ModelVariant } from "../engine.js";
import { replay } from "../replay.js";
import { readTrace } from "../trace.js";
import type { KnownFinding } from "./baseline.js";
import type { EngineReport, Verdict } from "./report.js";

/** Resolves a seeded fault by name; undefined when it does not exist. */
export type FaultLookup = (name: string) => ModelVariant | undefined;

export function traceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".json") && !e.name.endsWith(".itf.json"))
    .map((e) => join(dir, e.name))
    .sort();
}

/**
 * Reads every trace of the corpus and of the baseline, before the run: a malformed one is exit 2
 * before any search, with nothing written (the replay reads them again, on its own thread).
 */
export function checkCorpus(files: readonly string[], baseline: readonly KnownFinding[]): void {
  for (const f of files) readTrace(f);
  for (const f of baseline) if (existsSync(f.trace)) readTrace(f.trace);
}

export function replayCorpus(files: readonly string[], baseline: readonly KnownFinding[], fault: FaultLookup): EngineReport {
  const t0 = Date.now();
  const verdicts: Verdict[] = [];
  const warnings: string[] = [];
  for (const file of files) {
    const trace = readTrace(file);
    const real = replay(trace);
    const faultName = typeof trace.meta?.fault === "string" ? trace.meta.fault : undefined;
    if (real.violations.length > 0) {
      const v = real.violations[0];
      verdicts.push({ property: v.property, status: "fail", counterexample: file, message: `replays with a violation on the real model at step ${v.step}: ${v.finding.message}` });
    } else if (faultName !== undefined) {
      const variant = fault(faultName);
      const expected = trace.violation?.property;
      const under = variant && replay(trace, { variant });
      const ok = under?.violations.some((v) => v.property === expected);
      verdicts.push({
        property: expected ?? "(none)",
        status: ok ? "pass" : "fail",
        counterexample: file,
        message: ok ? undefined : variant ? `no longer violates ${expected} under fault ${faultName}` : `unknown fault ${faultName}`,
      });
    } else {
      verdicts.push({ property: trace.violation?.property ?? "(none)", status: "pass", counterexample: file });
    }
  }
  for (const f of baseline) {
    if (!existsSync(f.trace)) {
      warnings.push(`known finding ${f.id}: its trace ${f.trace} is missing`);
      continue;
    }
    const r = replay(readTrace(f.trace));
    if (!r.violations.some((v) => v.property === f.property)) {
      warnings.push(`known finding ${f.id} no longer reproduces: fixed in the model? update ${f.trace} and the baseline`);
    }
  }
  return {
    engine: "corpus",
    config: `${files.length} traces`,
    complete: true,
    stats: { traces: verdicts.length, knownFindings: baseline.length, seconds: Number(((Date.now() - t0) / 1000).toFixed(2)) },
    verdicts,
    warnings,
  };
}
