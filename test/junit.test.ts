// `check --junit`: the JUnit XML, read back by an independent parser (fast-xml-parser): it is
// well-formed whatever the messages hold (control characters included), suites and cases carry
// times, and a new violation is a failure while a proof that did not complete is an error.

import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import type { EngineReport } from "../src/check/report.js";
import { junitXml } from "../src/report/junit.js";

const REPORTS: EngineReport[] = [
  {
    engine: "bfs",
    config: "tiny",
    complete: true,
    stats: { states: 10, seconds: 2.5 },
    verdicts: [
      { property: "no-hyp-panic", status: "fail", message: "panicked <here> & \u0001\u001b[31m there", counterexample: "counterexamples/no-hyp-panic-1.json", steps: 2 },
      { property: "unique-owner", status: "pass" },
      { property: "share-consistency", status: "known", known: "a-finding" },
    ],
    warnings: [],
  },
  {
    engine: "smt",
    config: "every memory size, shape of default",
    complete: false,
    stats: { obligations: 2, seconds: 4 },
    verdicts: [
      {
        property: "host-cannot-access-guest",
        status: "unproved",
        message: "not proved: 1 of 2 obligations unknown",
        open: [{ transition: "host_unshare_guest(vm=0)", goal: "ghost-owners", verdict: "unknown", reason: "rlimit: spent its 100 units" }],
      },
      { property: "guest-cannot-access-host", status: "pass" },
    ],
    warnings: [],
  },
  { engine: "random", config: "wide", complete: true, stats: { seconds: 1 }, verdicts: [{ property: "unique-owner", status: "bounded" }], warnings: [] },
];

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (name) => ["testsuite", "testcase"].includes(name) });

function parsed(xml: string) {
  expect(XMLValidator.validate(xml)).toBe(true);
  return parser.parse(xml).testsuites;
}

describe("check --junit", () => {
  it("is well-formed XML, control characters shown as their code", () => {
    const xml = junitXml(REPORTS, { strict: false, allowUnproved: false });
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    const [bfs] = parsed(xml).testsuite;
    expect(bfs.testcase[0].failure.message).toBe("panicked <here> & \\u{1}\\u{1b}[31m there");
  });

  it("counts tests, failures, errors and skipped per suite and in all, with times in seconds", () => {
    const root = parsed(junitXml(REPORTS, { strict: false, allowUnproved: false }));
    expect(root).toMatchObject({ tests: "6", failures: "1", errors: "1", skipped: "1", time: "7.500" });
    const [bfs, smt, random] = root.testsuite;
    expect(bfs).toMatchObject({ name: "bfs tiny", tests: "3", failures: "1", errors: "0", skipped: "1", time: "2.500" });
    expect(bfs.testcase.map((c: { time: string }) => Number(c.time))).toEqual([2.5 / 3, 2.5 / 3, 2.5 / 3].map((t) => Number(t.toFixed(3))));
    expect(bfs.testcase[0].failure).toMatchObject({ type: "violation", "#text": expect.stringContaining("counterexample: counterexamples/no-hyp-panic-1.json") });
    expect(bfs.testcase[2].skipped.message).toBe("known finding a-finding");
    expect(smt).toMatchObject({ tests: "2", failures: "0", errors: "1" });
    expect(smt.testcase[0].error).toMatchObject({ type: "unproved", "#text": expect.stringContaining("open obligation: ghost-owners over host_unshare_guest(vm=0): unknown (rlimit: spent its 100 units)") });
    expect(random.testcase[0]["system-out"]).toMatch(/^bounded: /);
  });

  it("--allow-unproved skips an unproved proof; --strict fails a known finding", () => {
    const root = parsed(junitXml(REPORTS, { strict: true, allowUnproved: true }));
    expect(root).toMatchObject({ failures: "2", errors: "0", skipped: "1" });
    expect(root.testsuite[1].testcase[0].skipped.message).toMatch(/^not proved, allowed by --allow-unproved/);
    expect(root.testsuite[0].testcase[2].failure.type).toBe("known-finding");
  });
});
