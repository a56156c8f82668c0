// JUnit XML for CI systems, written by an XML library (escaping, control characters): one test
// suite per engine run, one test case per property. A new violation is a <failure> with its
// counterexample; a proof that did not complete is an <error> listing its open obligations (the
// check could not decide: not a violation found, not a pass), or <skipped> under
// --allow-unproved; a known finding is <skipped> (a <failure> under --strict). A bounded verdict
// passes and says so in <system-out>. Times are in seconds: a suite's is its run's; its cases
// share it evenly, since an engine checks all its properties at once.

import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces.js";
import type { EngineReport, FailOn, Verdict } from "../check/report.js";

type Outcome = "passed" | "failure" | "error" | "skipped";

function outcome(v: Verdict, on: FailOn): Outcome {
  if (v.status === "fail") return "failure";
  if (v.status === "known") return on.strict ? "failure" : "skipped";
  if (v.status === "unproved") return on.allowUnproved ? "skipped" : "error";
  if (v.status === "skipped") return "skipped";
  return "passed";
}

/** A character XML 1.0 cannot hold, shown as its code: the text stays readable and well-formed. */
const visible = (c: string) => `\\u{${c.codePointAt(0)!.toString(16)}}`;

function skipReason(v: Verdict): string {
  if (v.status === "known") return `known finding ${v.known}`;
  if (v.status === "skipped") return v.message ?? "skipped";
  return `not proved, allowed by --allow-unproved: ${v.message ?? ""}`;
}

function detail(v: Verdict): string {
  const open = (v.open ?? []).map((o) => `open obligation: ${o.goal} over ${o.transition}: ${o.verdict}${o.reason ? ` (${o.reason})` : ""}`);
  return [v.message ?? "", ...(v.counterexample ? [`counterexample: ${v.counterexample}`] : []), ...open].filter(Boolean).join("\n");
}

function testcase(suite: XMLBuilder, r: EngineReport, v: Verdict, seconds: number, on: FailOn): Outcome {
  const name = `${r.engine} ${r.config}`;
  const tc = suite.ele("testcase", {
    classname: name,
    name: `${v.property}${v.counterexample && r.engine === "corpus" ? ` ${v.counterexample}` : ""}`,
    time: seconds.toFixed(3),
  });
  const o = outcome(v, on);
  if (o === "failure") tc.ele("failure", { message: v.message ?? `${v.property} violated`, type: v.status === "known" ? "known-finding" : "violation" }).txt(detail(v));
  if (o === "error") tc.ele("error", { message: v.message ?? `${v.property} not proved`, type: "unproved" }).txt(detail(v));
  if (o === "skipped") tc.ele("skipped", { message: skipReason(v) });
  if (o === "passed" && v.status === "bounded") tc.ele("system-out").txt(`bounded: ${v.message ?? "no violation in what was covered (not a proof)"}`);
  return o;
}

export function junitXml(reports: readonly EngineReport[], on: FailOn): string {
  const doc = create({ version: "1.0", encoding: "UTF-8", invalidCharReplacement: visible });
  const root = doc.ele("testsuites", { name: "pkvm-check" });
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0, time: 0 };
  for (const r of reports) {
    const time = typeof r.stats.seconds === "number" ? r.stats.seconds : 0;
    const suite = root.ele("testsuite", { name: `${r.engine} ${r.config}` });
    const counts = { failure: 0, error: 0, skipped: 0, passed: 0 };
    for (const v of r.verdicts) counts[testcase(suite, r, v, r.verdicts.length ? time / r.verdicts.length : 0, on)]++;
    suite.att({ tests: String(r.verdicts.length), failures: String(counts.failure), errors: String(counts.error), skipped: String(counts.skipped), time: time.toFixed(3) });
    totals.tests += r.verdicts.length;
    totals.failures += counts.failure;
    totals.errors += counts.error;
    totals.skipped += counts.skipped;
    totals.time += time;
  }
  root.att({ tests: String(totals.tests), failures: String(totals.failures), errors: String(totals.errors), skipped: String(totals.skipped), time: totals.time.toFixed(3) });
  return doc.end({ prettyPrint: true });
}
