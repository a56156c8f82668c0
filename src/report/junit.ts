// JUnit XML for CI systems: one test suite per engine run, one test case per property; a failure
// carries the counterexample's path and message, a known finding is a skipped case.

import type { EngineReport } from "../check/report.js";
import { esc } from "./xml.js";


export function junitXml(reports: readonly EngineReport[]): string {
  const suites = reports.map((r) => {
    const name = `${r.engine} ${r.config}`;
    const cases = r.verdicts.map((v) => {
      const open = `    <testcase classname="${esc(name)}" name="${esc(v.property)}${v.counterexample && r.engine === "corpus" ? ` ${esc(v.counterexample)}` : ""}">`;
      if (v.status === "fail") {
        const body = `${v.message ?? ""}${v.counterexample ? `\ncounterexample: ${v.counterexample}` : ""}`;
        return `${open}\n      <failure message="${esc(v.message ?? "violated")}">${esc(body)}</failure>\n    </testcase>`;
      }
      if (v.status === "known") return `${open}\n      <skipped message="${esc(`known finding ${v.known}`)}"/>\n    </testcase>`;
      if (v.status === "skipped") return `${open}\n      <skipped message="${esc(v.message ?? "skipped")}"/>\n    </testcase>`;
      return `${open}</testcase>`;
    });
    const failures = r.verdicts.filter((v) => v.status === "fail").length;
    const skipped = r.verdicts.filter((v) => v.status === "known" || v.status === "skipped").length;
    const time = typeof r.stats.seconds === "number" ? ` time="${r.stats.seconds}"` : "";
    return `  <testsuite name="${esc(name)}" tests="${r.verdicts.length}" failures="${failures}" skipped="${skipped}"${time}>\n${cases.join("\n")}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="pkvm-check">\n${suites.join("\n")}\n</testsuites>\n`;
}
